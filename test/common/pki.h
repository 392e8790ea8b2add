/*
 * Certificates and keys for tests, made with the openssl command line in a
 * directory of the test's own: the material a real operator or device
 * would have, not fixtures written by the code under test.
 */
#ifndef PKI_H
#define PKI_H

/* Runs argv (NULL-terminated) with its output in dir/openssl.log; its
 * exit status, or -1. */
int pki_run(const char *dir, char *const argv[]);

/* The whole file, NUL-terminated (malloc()ed), or NULL. */
char *pki_read(const char *path);

/* dir/name.key, a new private key: "ec" (P-256), "p384", "ed25519",
 * "rsa" (2048), "rsa1024", "secp256k1"; 0 or -1. */
int pki_key(const char *dir, const char *name, const char *type);

/* dir/name.pem, a CA certificate (CA:TRUE, keyCertSign, 30 days), and its
 * new key dir/name.key of type; 0 or -1. */
int pki_ca(const char *dir, const char *name, const char *type);

/* The PEM text of a CSR (dir/name.csr) for a new key dir/name.key of type,
 * subject CN=cn (malloc()ed), or NULL. */
char *pki_csr(const char *dir, const char *name, const char *type, const char *cn);

#endif
