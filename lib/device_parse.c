/* Reading a device request (protocol 3, 3.1, 3.2, 3.3, 7.2) into what the
 * answer needs, each mistake named in the reply. */
#include "device_int.h"

#include "error.h"

#include <stdio.h>
#include <string.h>

/* Sets the reply's message and returns code. */
int bs_device_say(request_t *req, int code, const char *msg)
{
	snprintf(req->message, sizeof(req->message), "%s", msg);
	return code;
}

int bs_device_invalid(request_t *req, const char *msg)
{
	return bs_device_say(req, BS_ERR_INVALID, msg);
}

/* The id is read first, so that even a bad request gets its id echoed. */
static void read_id(const bs_request_t *r, request_t *req)
{
	if (r->id.kind == BS_JSON_STRING && r->id.len <= BS_REQ_ID_MAX)
		req->id = r->id.str;
}

/* A base64 string member decoding to exactly len bytes. */
static int read_b64(const bs_member_t *m, uint8_t *out, size_t len)
{
	size_t got = 0;

	return m->kind == BS_JSON_STRING
		&& bs_b64_decode(m->str, m->len, out, len, &got) == BS_OK && got == len
		? BS_OK : BS_ERR_INVALID;
}

/* {"external_id", "nonce", "proof"}: the answer to a challenge. */
static int read_proof(const bs_request_t *r, request_t *req)
{
	if (r->external_key.kind != BS_JSON_ABSENT)
		return bs_device_invalid(req, "external_key: a challenge answer carries a proof instead");
	if (read_b64(&r->nonce, req->nonce, BS_NONCE_LEN) != BS_OK)
		return bs_device_invalid(req, "nonce: must be the base64 of the 32 bytes issued");
	if (read_b64(&r->proof, req->proof, BS_SHA256_LEN) != BS_OK)
		return bs_device_invalid(req, "proof: must be the base64 of an HMAC-SHA256");
	req->mode = MODE_PROOF;
	return BS_OK;
}

/* {"external_id", "op": "challenge"}: a request for a nonce. */
static int read_challenge(const bs_request_t *r, request_t *req)
{
	if (r->op.kind != BS_JSON_STRING || strcmp(r->op.str, "challenge") != 0)
		return bs_device_invalid(req, "op: must be \"challenge\"");
	if (r->external_key.kind != BS_JSON_ABSENT || r->nonce.kind != BS_JSON_ABSENT
			|| r->proof.kind != BS_JSON_ABSENT)
		return bs_device_invalid(req, "op: a challenge request carries no key, nonce or proof");
	req->mode = MODE_CHALLENGE;
	return BS_OK;
}

static int read_key(const bs_request_t *r, request_t *req)
{
	if (r->encrypt.kind == BS_JSON_TRUE)
		req->mode = MODE_ENCRYPT;
	else if (r->encrypt.kind != BS_JSON_ABSENT && r->encrypt.kind != BS_JSON_FALSE)
		return bs_device_invalid(req, "encrypt: must be true or false");
	if (r->external_key.kind != BS_JSON_STRING)
		return bs_device_invalid(req, "external_key: a string is required");
	if (r->external_key.len > BS_KEY_MAX)
		return bs_device_invalid(req, "external_key: must be at most 256 bytes");
	req->external_key = r->external_key.str;
	return BS_OK;
}

/* A CSR (3.3) rides with a key or a proof, on a broker that issues. */
static int read_csr(const bs_request_t *r, request_t *req, int can_issue)
{
	if (r->csr.kind == BS_JSON_ABSENT)
		return BS_OK;
	if (r->csr.kind != BS_JSON_STRING)
		return bs_device_invalid(req, "csr: must be a string (a PEM certificate signing request)");
	if (!can_issue)
		return bs_device_invalid(req, "csr: this broker issues no certificates");
	if (req->mode == MODE_CHALLENGE)
		return bs_device_invalid(req, "csr: goes with the answer to the challenge, not with op");
	req->csr = r->csr.str;
	req->csr_len = r->csr.len;
	return BS_OK;
}

static int read_fields(const bs_request_t *r, request_t *req, int can_issue)
{
	char err[128];
	int rc;

	if (r->external_id.kind != BS_JSON_STRING)
		return bs_device_invalid(req, "external_id: a string is required");
	if (bs_valid_external_id(r->external_id.str, err, sizeof(err)) != BS_OK)
		return bs_device_invalid(req, err);
	req->external_id = r->external_id.str;
	if (r->id.kind != BS_JSON_ABSENT && req->id == NULL)
		return bs_device_invalid(req, "id: must be a string of at most 64 bytes");
	if (r->op.kind != BS_JSON_ABSENT)
		rc = read_challenge(r, req);
	else if (r->nonce.kind != BS_JSON_ABSENT || r->proof.kind != BS_JSON_ABSENT)
		rc = read_proof(r, req);
	else
		rc = read_key(r, req);
	if (rc == BS_OK && r->group.kind != BS_JSON_ABSENT) {
		if (r->group.kind != BS_JSON_STRING || r->group.len == 0 || r->group.len > BS_ID_MAX)
			return bs_device_invalid(req, "group: must be a group id");
		if (req->mode != MODE_CHALLENGE)
			req->group = r->group.str;
	}
	return rc == BS_OK ? read_csr(r, req, can_issue) : rc;
}

int bs_device_parse(const bs_core_t *core, const void *payload, size_t len,
		bs_request_t *r, request_t *req)
{
	size_t max = core->opts.max_request_bytes;
	const char *why;
	int rc;

	if (len > max)
		return bs_device_invalid(req, "request is larger than max_request_bytes");
	rc = bs_request_parse(payload, len, r, &why);
	if (rc == BS_ERR_INTERNAL)
		return bs_device_say(req, rc, "out of memory");
	if (rc != BS_OK)
		return bs_device_invalid(req, why && strcmp(why, "not an object") == 0
				? "request must be a JSON object" : "request is not valid JSON");
	read_id(r, req);
	return read_fields(r, req, core->issuer != NULL);
}
