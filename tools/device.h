/*
 * mosquitto_bootstrap_device: the reference device client of the bootstrap
 * protocol (PROTOCOL.md section 3). It stands alone, on libmosquitto,
 * OpenSSL's libcrypto and Jansson, so that device makers can read it as an
 * example: nothing of the plugin or its store is linked in.
 *
 *   device.c         options, the modes, main
 *   device_mqtt.c    one connection; a request and its reply
 *   device_crypto.c  base64, HKDF, HMAC, AES-256-GCM (OpenSSL EVP)
 *   device_csr.c     the device's own key pair and its certificate
 *                    signing request (protocol 3.3)
 *   device_out.c     the success reply to stdout or to files
 */
#ifndef DEVICE_H
#define DEVICE_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DEV_NAME "mosquitto_bootstrap_device"

/* Exit statuses, one per kind of outcome, so that a script can tell
 * "try again later" from "this device's credentials are wrong". */
enum {
	DEV_OK = 0,
	DEV_EREPLY = 1,         /* an error reply not listed below
	                           (invalid_request, internal_error, ...) */
	DEV_EUSAGE = 2,         /* bad options, or an unreadable key file */
	DEV_ECONN = 3,          /* no connection, refused login, or timeout */
	DEV_EBADREPLY = 4,      /* a reply that is not the protocol's, or that
	                           does not decrypt */
	DEV_EUNAUTHORIZED = 5,  /* unknown external ID or wrong key */
	DEV_EDISABLED = 6,      /* the config exists but is disabled */
	DEV_ERATELIMITED = 7,   /* locked out for now: retry after a while */
	DEV_EOUTPUT = 8,        /* the result could not be written */
};

typedef enum { MODE_PLAIN, MODE_ENCRYPT, MODE_CHALLENGE } dev_mode_t;
typedef enum { KEY_EC, KEY_RSA } dev_key_type_t;

typedef struct {
	const char *host;
	int port;
	int version;                /* 4 (MQTT 3.1.1) or 5 */
	const char *username, *password, *client_id;
	const char *cafile, *capath, *certfile, *keyfile;
	bool insecure;
	const char *prefix;         /* the plugin's topic_prefix */
	int timeout;                /* seconds, for the whole run */
	const char *external_id;
	char *external_key;         /* malloc()ed; cleansed before it is freed */
	dev_mode_t mode;
	const char *out_dir;
	/* Certificate issuance (protocol 3.3): --csr makes a key pair of
	 * key_type here and sends a CSR for it; the key goes to key_out (by
	 * default client_key.pem in out_dir). --csr-file sends a CSR made
	 * elsewhere (csr_text, malloc()ed), whose key stays where it is. */
	bool csr;
	dev_key_type_t key_type;
	const char *key_out;
	const char *csr_file;
	char *csr_text;
} dev_opts_t;

/* ---- device_mqtt.c ---------------------------------------------------- */

typedef struct dev_conn dev_conn_t;

/*
 * Connects as o says, within o->timeout seconds of the start of the run;
 * on MQTT 3.1.1 also subscribes to <prefix>/res/<external_id>. DEV_OK with
 * *out set, else DEV_ECONN, or DEV_EUSAGE for TLS files that cannot be
 * used (the reason on stderr).
 */
int dev_mqtt_open(const dev_opts_t *o, dev_conn_t **out);

/*
 * Publishes the request (JSON text with "id": req_id) to <prefix>/req at
 * QoS 1 and waits for its reply: DEV_OK with *reply set (a JSON object, new
 * reference), DEV_ECONN on timeout or a lost connection, DEV_EBADREPLY when
 * the reply is not a JSON object.
 */
int dev_mqtt_ask(dev_conn_t *c, const char *request, const char *req_id,
		json_t **reply);

void dev_mqtt_close(dev_conn_t *c);

/* ---- device_crypto.c -------------------------------------------------- */

/* Standard base64 with padding (malloc()ed), or NULL. */
char *dev_b64_encode(const uint8_t *data, size_t len);

/* Strict standard base64 into malloc()ed bytes (*len of them); NULL when
 * text is not that. */
uint8_t *dev_b64_decode(const char *text, size_t *len);

/* 2 * nbytes random lowercase hex digits into out (2 * nbytes + 1 long). */
int dev_random_hex(char *out, size_t nbytes);

/* HKDF-SHA256(IKM = key, salt = external_id, info "mqtt-bootstrap v1
 * reply"), the key of an encrypted reply (protocol 3.1). */
int dev_reply_key(const char *external_key, const char *external_id,
		uint8_t out[32]);

/* base64 of HMAC-SHA256(key = external_key, msg = nonce || external_id),
 * the challenge proof (protocol 3.2), malloc()ed; NULL on failure. */
char *dev_proof(const char *external_key, const uint8_t *nonce, size_t nlen,
		const char *external_id);

/*
 * Opens the "encrypted" object of a reply with key and aad: the plaintext
 * parsed as JSON (new reference), or NULL when it is malformed, does not
 * authenticate, or is not JSON.
 */
json_t *dev_open_sealed(const json_t *encrypted, const uint8_t key[32],
		const uint8_t *aad, size_t aadlen);

/* ---- device_csr.c ---------------------------------------------------- */

/* A new key pair: EC P-256, or RSA 2048 bits; NULL (reason on stderr). */
EVP_PKEY *dev_key_new(dev_key_type_t type);

/* A PEM PKCS#10 CSR for key, subject CN=cn, signed with key (malloc()ed);
 * NULL (reason on stderr). */
char *dev_csr_new(EVP_PKEY *key, const char *cn);

/* The private key as PEM PKCS#8, unencrypted (malloc()ed; cleanse it
 * before it is freed), or NULL. */
char *dev_key_pem(EVP_PKEY *key);

/* The public key of a PEM CSR (new reference), or NULL when it is not one. */
EVP_PKEY *dev_csr_pubkey(const char *csr);

/* 0 when the PEM certificate cert_pem is for key's public key, else -1. */
int dev_cert_for_key(const char *cert_pem, const EVP_PKEY *key);

/* ---- device_out.c ----------------------------------------------------- */

/* Creates dir (0700) when it is missing and checks that it is a writable
 * directory, before anything is asked of the broker: DEV_OK or DEV_EOUTPUT. */
int dev_out_prepare(const char *dir);

/* The config of a success reply, as indented JSON on stdout. */
int dev_out_print(const json_t *cfg);

/*
 * Each field of the config as a file of dir, each atomically replaced; the
 * files of fields the reply left out are removed, so that dir always holds
 * the latest bootstrap alone. DEV_OK or DEV_EOUTPUT.
 */
int dev_out_dir(const char *dir, const json_t *cfg);

/* Checks, before anything is asked of the broker, that path can be made or
 * replaced (its directory exists and is writable; path is no directory):
 * DEV_OK or DEV_EOUTPUT. */
int dev_out_prepare_file(const char *path);

/* text as the file path with mode, atomically replaced: DEV_OK or
 * DEV_EOUTPUT (the reason on stderr). */
int dev_out_file(const char *path, const char *text, mode_t mode);

/* s with control characters replaced by '?', for text from the broker
 * that goes to a terminal (malloc()ed; NULL gives "(none)"). */
char *dev_printable(const char *s);

#endif
