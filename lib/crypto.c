/*
 * Cryptography for the core: the master key file, random identifiers and
 * secrets, AES-256-GCM sealing of stored secrets, and a constant-time
 * comparison. Everything goes through OpenSSL's EVP and RAND interfaces.
 */
#include "crypto.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define KEY_HEX_LEN (BS_KEY_LEN * 2)

static const char hex_digits[] = "0123456789abcdef";

void bs_hex_encode(const uint8_t *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 0x0f];
	}
}

/* Reads until buf is full or end of file; -1 with errno on error. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Writes all of buf; -1 with errno on error. */
static int write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Exactly 64 hex digits, then at most one "\n" and nothing else. */
static bool key_parse(const char *buf, size_t len, uint8_t key[BS_KEY_LEN])
{
	if (len == KEY_HEX_LEN + 1 && buf[KEY_HEX_LEN] == '\n')
		len = KEY_HEX_LEN;
	if (len != KEY_HEX_LEN)
		return false;
	for (size_t i = 0; i < BS_KEY_LEN; i++) {
		int hi = OPENSSL_hexchar2int((unsigned char)buf[2 * i]);
		int lo = OPENSSL_hexchar2int((unsigned char)buf[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			OPENSSL_cleanse(key, BS_KEY_LEN);
			return false;
		}
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/*
 * Loads an existing key file. BS_ERR_NOT_FOUND (with err untouched) tells
 * the caller the file is missing and may be created.
 */
static int key_read(const char *path, uint8_t key[BS_KEY_LEN],
		char *err, size_t errlen)
{
	/* One byte more than a valid file can hold, to see overlong ones. */
	char buf[KEY_HEX_LEN + 2];
	struct stat st;
	ssize_t n = -1;
	int rc = BS_ERR_INTERNAL;

	/* O_NONBLOCK so a FIFO planted at path cannot hang the broker. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return BS_ERR_NOT_FOUND;
		bs_set_err(err, errlen, "master key %s: cannot open: %s", path,
				strerror(errno));
		return BS_ERR_INTERNAL;
	}
	if (fstat(fd, &st) != 0) {
		bs_set_err(err, errlen, "master key %s: cannot stat: %s", path,
				strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		bs_set_err(err, errlen, "master key %s: not a regular file", path);
		rc = BS_ERR_INVALID;
		goto out;
	}
	/* Anyone who can read it can open every stored secret. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		bs_set_err(err, errlen, "master key %s: group or others may use it "
				"(mode %04o); make it 0600", path, (unsigned)(st.st_mode & 07777));
		rc = BS_ERR_INVALID;
		goto out;
	}
	n = read_full(fd, buf, sizeof buf);
	if (n < 0) {
		bs_set_err(err, errlen, "master key %s: cannot read: %s", path,
				strerror(errno));
		goto out;
	}
	if (!key_parse(buf, (size_t)n, key)) {
		bs_set_err(err, errlen, "master key %s: expected exactly 64 hex "
				"digits and at most one trailing newline", path);
		rc = BS_ERR_INVALID;
		goto out;
	}
	rc = BS_OK;
out:
	OPENSSL_cleanse(buf, sizeof buf);
	close(fd);
	return rc;
}

/*
 * Creates path holding a fresh key. BS_ERR_CONFLICT when the file appeared
 * in the meantime (another process won the race), so the caller reads it.
 * A half-written file is removed, so the next start does not refuse it.
 */
static int key_create(const char *path, uint8_t key[BS_KEY_LEN],
		char *err, size_t errlen)
{
	char hex[KEY_HEX_LEN + 1];
	const char *step = "cannot create";
	bool created = false;
	int fd;

	/* The key comes first: no empty file is left when RAND fails. */
	if (bs_crypto_random(key, BS_KEY_LEN) != BS_OK) {
		bs_set_err(err, errlen, "master key %s: no random bytes available",
				path);
		return BS_ERR_INTERNAL;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
			0600);
	if (fd < 0) {
		if (errno == EEXIST) {
			OPENSSL_cleanse(key, BS_KEY_LEN);
			return BS_ERR_CONFLICT;
		}
		goto fail;
	}
	created = true;
	bs_hex_encode(key, BS_KEY_LEN, hex);
	hex[KEY_HEX_LEN] = '\n';
	step = "cannot write";
	if (write_full(fd, hex, sizeof hex) != 0)
		goto fail;
	/* The key must be on disk before any secret is sealed under it. */
	if (fsync(fd) != 0)
		goto fail;
	step = "cannot close";
	if (close(fd) != 0) {
		fd = -1; /* closed anyway: retrying could close another fd */
		goto fail;
	}
	OPENSSL_cleanse(hex, sizeof hex);
	return BS_OK;
fail:
	bs_set_err(err, errlen, "master key %s: %s: %s", path, step,
			strerror(errno));
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(path);
	OPENSSL_cleanse(hex, sizeof hex);
	OPENSSL_cleanse(key, BS_KEY_LEN);
	return BS_ERR_INTERNAL;
}

int bs_crypto_key_load(const char *path, uint8_t key[BS_KEY_LEN],
		char *err, size_t errlen)
{
	if (path == NULL || key == NULL) {
		bs_set_err(err, errlen, "master key: no path given");
		return BS_ERR_INVALID;
	}
	int rc = key_read(path, key, err, errlen);
	if (rc != BS_ERR_NOT_FOUND)
		return rc;
	rc = key_create(path, key, err, errlen);
	if (rc != BS_ERR_CONFLICT)
		return rc;
	rc = key_read(path, key, err, errlen);
	if (rc == BS_ERR_NOT_FOUND) {
		/* Created and gone again, or a dangling symlink: give up. */
		bs_set_err(err, errlen, "master key %s: cannot open: %s", path,
				strerror(ENOENT));
		rc = BS_ERR_INTERNAL;
	}
	return rc;
}

/*
 * Small draws (an IV, a key, a nonce) come from a pool per thread, filled
 * from RAND_bytes 1 KiB at a time: OpenSSL 3 spends about 10,000
 * instructions of locking and fork checks on each call whatever its size,
 * a sixth of a createConfig (callgrind on the fleet import). Each byte is
 * wiped as it is handed out; bs_crypto_release wipes the rest.
 */
#define POOL_SIZE 1024
#define POOL_MAX_DRAW 64

static _Thread_local struct {
	unsigned char b[POOL_SIZE];
	size_t next;      /* bytes before it are used and wiped */
	int filled;
} pool;

static int pool_draw(void *buf, size_t len)
{
	if (!pool.filled || pool.next + len > POOL_SIZE) {
		if (RAND_bytes(pool.b, POOL_SIZE) != 1) {
			ERR_clear_error();
			return BS_ERR_INTERNAL;
		}
		pool.next = 0;
		pool.filled = 1;
	}
	memcpy(buf, pool.b + pool.next, len);
	OPENSSL_cleanse(pool.b + pool.next, len);
	pool.next += len;
	return BS_OK;
}

int bs_crypto_random(void *buf, size_t len)
{
	if (len == 0)
		return BS_OK;
	if (buf == NULL)
		return BS_ERR_INVALID;
	if (len <= POOL_MAX_DRAW)
		return pool_draw(buf, len);
	/* RAND_bytes takes an int; larger requests go in chunks. */
	while (len > 0) {
		int chunk = len > INT_MAX ? INT_MAX : (int)len;
		if (RAND_bytes(buf, chunk) != 1) {
			ERR_clear_error();
			return BS_ERR_INTERNAL;
		}
		buf = (unsigned char *)buf + chunk;
		len -= (size_t)chunk;
	}
	return BS_OK;
}

int bs_crypto_uuid4(char out[BS_UUID_LEN + 1])
{
	uint8_t b[16];
	if (out == NULL)
		return BS_ERR_INVALID;
	if (bs_crypto_random(b, sizeof b) != BS_OK)
		return BS_ERR_INTERNAL;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 10xx (RFC 4122) */
	char *p = out;
	for (size_t i = 0; i < sizeof b; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		bs_hex_encode(&b[i], 1, p);
		p += 2;
	}
	*p = '\0';
	return BS_OK;
}

int bs_crypto_b64url32(const uint8_t raw[32], char out[BS_SECRET_LEN + 1])
{
	/* EVP_EncodeBlock pads 32 bytes to 44 characters plus a NUL. */
	unsigned char b64[((32 + 2) / 3) * 4 + 1];
	int rc = BS_ERR_INTERNAL;

	if (EVP_EncodeBlock(b64, raw, 32) == BS_SECRET_LEN + 1) {
		/* Standard base64 to base64url, dropping the one '=' of padding. */
		for (size_t i = 0; i < BS_SECRET_LEN; i++) {
			unsigned char c = b64[i];
			out[i] = c == '+' ? '-' : c == '/' ? '_' : (char)c;
		}
		out[BS_SECRET_LEN] = '\0';
		rc = BS_OK;
	}
	OPENSSL_cleanse(b64, sizeof b64);
	return rc;
}

int bs_crypto_secret(char out[BS_SECRET_LEN + 1])
{
	uint8_t raw[32];
	int rc = BS_ERR_INTERNAL;

	if (out == NULL)
		return BS_ERR_INVALID;
	if (bs_crypto_random(raw, sizeof raw) == BS_OK)
		rc = bs_crypto_b64url32(raw, out);
	OPENSSL_cleanse(raw, sizeof raw);
	return rc;
}

/*
 * AES-256-GCM fetched from the provider once, and freed by
 * bs_crypto_release (a plugin unloaded without freeing it leaks it):
 * EVP_aes_256_gcm() makes every EVP_CipherInit_ex fetch it again, which
 * cost more than the decryption of a secret.
 */
static EVP_CIPHER *gcm_cipher;
static pthread_mutex_t gcm_lock = PTHREAD_MUTEX_INITIALIZER;

static EVP_CIPHER *gcm_fetch(void)
{
	EVP_CIPHER *c;

	pthread_mutex_lock(&gcm_lock);
	if (gcm_cipher == NULL)
		gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	c = gcm_cipher;
	pthread_mutex_unlock(&gcm_lock);
	return c;
}

/*
 * One context per direction and thread, kept keyed: setting up a context
 * and its key schedule for every secret cost more than decrypting it. A
 * new IV is all a reused context needs.
 */
typedef struct {
	EVP_CIPHER_CTX *ctx;
	uint8_t key[BS_KEY_LEN];
	int keyed;
} gcm_slot_t;

static _Thread_local gcm_slot_t gcm_slots[2];

void bs_crypto_release(void)
{
	for (int i = 0; i < 2; i++) {
		EVP_CIPHER_CTX_free(gcm_slots[i].ctx);
		OPENSSL_cleanse(&gcm_slots[i], sizeof(gcm_slots[i]));
	}
	OPENSSL_cleanse(&pool, sizeof(pool));
	/* A context still keyed elsewhere holds a reference of its own. */
	pthread_mutex_lock(&gcm_lock);
	EVP_CIPHER_free(gcm_cipher);
	gcm_cipher = NULL;
	pthread_mutex_unlock(&gcm_lock);
}

/*
 * The context for enc keyed with key and iv, the aad already absorbed;
 * it belongs to the slot, not to the caller. An open's expected tag
 * (tag, else NULL) goes in with the init's parameters: the provider keeps
 * it until the final check, and EVP_CIPHER_CTX_ctrl would build the same
 * parameter again at a cost of about 450 instructions (callgrind).
 */
static EVP_CIPHER_CTX *gcm_start(int enc, const uint8_t key[BS_KEY_LEN],
		const uint8_t iv[BS_GCM_IV_LEN], const void *aad, size_t aadlen,
		uint8_t *tag)
{
	gcm_slot_t *slot = &gcm_slots[enc ? 1 : 0];
	OSSL_PARAM params[] = {
		OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, BS_GCM_TAG_LEN),
		OSSL_PARAM_END
	};
	EVP_CIPHER *cipher = NULL;
	int same, n;

	if (slot->ctx == NULL && (slot->ctx = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	same = slot->keyed && memcmp(slot->key, key, BS_KEY_LEN) == 0;
	slot->keyed = 0;
	if (!same && (cipher = gcm_fetch()) == NULL)
		return NULL;
	/* The default GCM IV length is 12 bytes, BS_GCM_IV_LEN. */
	if (EVP_CipherInit_ex2(slot->ctx, cipher, same ? NULL : key, iv, enc,
			tag != NULL ? params : NULL) != 1)
		return NULL;
	if (aadlen > 0 &&
			EVP_CipherUpdate(slot->ctx, NULL, &n, aad, (int)aadlen) != 1)
		return NULL;
	memcpy(slot->key, key, BS_KEY_LEN);
	slot->keyed = 1;
	return slot->ctx;
}

/* After a failure the slot is keyed again from scratch next time. */
static void gcm_failed(int enc)
{
	gcm_slots[enc ? 1 : 0].keyed = 0;
}

int bs_crypto_seal(const uint8_t key[BS_KEY_LEN],
		const void *aad, size_t aadlen,
		const void *pt, size_t ptlen,
		uint8_t **out, size_t *outlen)
{
	if (key == NULL || out == NULL || outlen == NULL ||
			(aad == NULL && aadlen > 0) || (pt == NULL && ptlen > 0))
		return BS_ERR_INVALID;
	*out = NULL;
	*outlen = 0;
	/* EVP lengths are ints. */
	if (aadlen > INT_MAX || ptlen > INT_MAX - BS_SEAL_OVERHEAD)
		return BS_ERR_INVALID;

	size_t total = ptlen + BS_SEAL_OVERHEAD;
	OSSL_PARAM tagp[] = {
		OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, NULL, BS_GCM_TAG_LEN),
		OSSL_PARAM_END
	};
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, fin = 0, rc = BS_ERR_INTERNAL;
	uint8_t *buf = malloc(total);
	if (buf == NULL)
		goto out;
	uint8_t *iv = buf, *ct = buf + BS_GCM_IV_LEN;
	/* A fresh random IV per seal; 2^32 seals per key stay safe. */
	if (bs_crypto_random(iv, BS_GCM_IV_LEN) != BS_OK)
		goto out;
	ctx = gcm_start(1, key, iv, aad, aadlen, NULL);
	if (ctx == NULL)
		goto out;
	if (ptlen > 0 && EVP_EncryptUpdate(ctx, ct, &n, pt, (int)ptlen) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1 ||
			(size_t)n + (size_t)fin != ptlen)
		goto out;
	/* The tag straight from the provider, as the open gives it in. */
	tagp[0].data = ct + ptlen;
	if (EVP_CIPHER_CTX_get_params(ctx, tagp) != 1)
		goto out;
	*out = buf;
	*outlen = total;
	buf = NULL;
	rc = BS_OK;
out:
	free(buf);
	if (rc != BS_OK) {
		gcm_failed(1);
		ERR_clear_error();
	}
	return rc;
}

int bs_crypto_open(const uint8_t key[BS_KEY_LEN],
		const void *aad, size_t aadlen,
		const uint8_t *in, size_t inlen,
		uint8_t **pt, size_t *ptlen)
{
	if (key == NULL || pt == NULL || ptlen == NULL ||
			(aad == NULL && aadlen > 0) || (in == NULL && inlen > 0))
		return BS_ERR_INVALID;
	*pt = NULL;
	*ptlen = 0;
	/* Too short to hold an IV and a tag: it was never sealed. */
	if (inlen < BS_SEAL_OVERHEAD || aadlen > INT_MAX ||
			inlen - BS_SEAL_OVERHEAD > INT_MAX)
		return BS_ERR_INTERNAL;

	size_t ctlen = inlen - BS_SEAL_OVERHEAD;
	const uint8_t *ct = in + BS_GCM_IV_LEN;
	uint8_t tag[BS_GCM_TAG_LEN];
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, fin = 0, rc = BS_ERR_INTERNAL;
	/* One more byte for the NUL, so "" comes back as a real string. */
	uint8_t *buf = malloc(ctlen + 1);
	if (buf == NULL)
		goto out;
	/* The parameter wants a writable pointer; in is const. */
	memcpy(tag, ct + ctlen, sizeof tag);
	ctx = gcm_start(0, key, in, aad, aadlen, tag);
	if (ctx == NULL)
		goto out;
	if (ctlen > 0 && EVP_DecryptUpdate(ctx, buf, &n, ct, (int)ctlen) != 1)
		goto out;
	/* Fails when the tag does not authenticate key, iv, aad and ct. */
	if (EVP_DecryptFinal_ex(ctx, buf + n, &fin) != 1 ||
			(size_t)n + (size_t)fin != ctlen)
		goto out;
	buf[ctlen] = '\0';
	*pt = buf;
	*ptlen = ctlen;
	buf = NULL;
	rc = BS_OK;
out:
	/* Unauthenticated plaintext must not linger in freed memory. */
	bs_crypto_free_secret(buf, ctlen + 1);
	if (rc != BS_OK) {
		gcm_failed(0);
		ERR_clear_error();
	}
	return rc;
}

/* A key (at most 256 bytes) is compared in a pad on the stack, not one
 * allocated for it. */
#define EQUAL_STACK_PAD 256

int bs_crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if ((a == NULL && alen > 0) || (b == NULL && blen > 0))
		return 0;
	if (blen == 0)
		return alen == 0;
	/*
	 * Compare blen bytes whatever alen is: a is copied into a zeroed pad
	 * the length of b, so CRYPTO_memcmp always sees blen bytes. The pad
	 * could match b's tail by accident; the length check folds that in
	 * with a non-short-circuit &. Only the copy of a's own bytes depends
	 * on alen, which tells nothing about b.
	 */
	uint8_t stack_pad[EQUAL_STACK_PAD];
	uint8_t *pad = blen <= sizeof(stack_pad) ? stack_pad : malloc(blen);
	if (pad == NULL)
		return 0;
	memset(pad, 0, blen);
	if (alen > 0) /* memcpy must not see NULL, even for 0 bytes */
		memcpy(pad, a, alen < blen ? alen : blen);
	int same = CRYPTO_memcmp(pad, b, blen) == 0;
	OPENSSL_cleanse(pad, blen);
	if (pad != stack_pad)
		free(pad);
	return same & (alen == blen);
}

void bs_crypto_free_secret(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}
