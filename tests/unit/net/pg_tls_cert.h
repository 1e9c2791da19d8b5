/*
 * Self-signed certificates made at test time (EC P-256, valid a day), so
 * that no private key is ever committed: the TLS unit tests and the TLS
 * fuzz target write them into a temporary directory they remove.
 */
#ifndef PG_TLS_CERT_H
#define PG_TLS_CERT_H

#include <stdio.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/pg_core.h"

/* Write PEM files: PG_OK, or PG_ERROR if OpenSSL or the files failed. */
static inline int
pg_test_cert_write(X509 *x, EVP_PKEY *k, const char *cert, const char *key)
{
	FILE *fc = fopen(cert, "w"), *fk = fopen(key, "w");
	int ok = fc != NULL && fk != NULL && PEM_write_X509(fc, x) == 1
		 && PEM_write_PrivateKey(fk, k, NULL, NULL, 0, NULL, NULL) == 1;

	if (fc != NULL)
		ok &= fclose(fc) == 0;
	if (fk != NULL)
		ok &= fclose(fk) == 0;
	return ok ? PG_OK : PG_ERROR;
}

/*
 * A certificate whose subject CN is cn and whose subjectAltName is san
 * ("DNS:a.test,DNS:*.b.test") into the files cert and key.
 */
static inline int
pg_test_cert(const char *cn, const char *san, const char *cert,
	     const char *key)
{
	static long serial = 1;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_EXTENSION *e = NULL;
	X509V3_CTX v3;
	int rc = PG_ERROR;

	if (k == NULL || x == NULL)
		goto done;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (e == NULL || X509_add_ext(x, e, -1) != 1
	    || X509_sign(x, k, EVP_sha256()) <= 0)
		goto done;
	rc = pg_test_cert_write(x, k, cert, key);
done:
	X509_EXTENSION_free(e);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

#endif
