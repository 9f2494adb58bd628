"""Build recipe (cffi, API mode) for `custodes.ledger._sha256`: SHA-256 of many messages per call.

Python's hashlib costs about 0.4 µs per call on top of the hashing and holds the GIL for
messages under 2 KiB, which is every leaf of the ledger. These two loops call OpenSSL's SHA-256
(the EVP interface, one context reused) over a whole Arrow string array or a whole level of the
tree, and cffi releases the GIL around each call, so hashing runs beside the ingest on the other
core. The hashing itself is OpenSSL's; `custodes.ledger.batch_hash` is the Python face.

`pip install` builds it (setup.py names this file in `cffi_modules`); it needs a C compiler and
OpenSSL's headers (Debian: gcc, libssl-dev; `scripts/setup-system.sh` installs them).
"""

from __future__ import annotations

from cffi import FFI

ffi = FFI()
ffi.cdef(
    """
    int sha256_each(const unsigned char *data, const int32_t *offsets, size_t count,
                    unsigned char *out);
    int sha256_pairs(const unsigned char *level, size_t pairs, unsigned char *out);
    """
)
ffi.set_source(
    "custodes.ledger._sha256",
    r"""
#include <openssl/evp.h>
#include <stdint.h>

/* out[32 * i] = SHA-256(data[offsets[i] .. offsets[i + 1]]) for i < count; 1 when all went well. */
static int sha256_each(const unsigned char *data, const int32_t *offsets, size_t count,
                       unsigned char *out) {
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = md != NULL && ctx != NULL;
    for (size_t i = 0; ok && i < count; i++)
        ok = EVP_DigestInit_ex(ctx, md, NULL)
             && EVP_DigestUpdate(ctx, data + offsets[i], (size_t)(offsets[i + 1] - offsets[i]))
             && EVP_DigestFinal_ex(ctx, out + 32 * i, NULL);
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    return ok;
}

/* out[32 * i] = SHA-256(0x01 || level[64 * i .. 64 * i + 64]) for i < pairs: RFC 9162's node. */
static int sha256_pairs(const unsigned char *level, size_t pairs, unsigned char *out) {
    static const unsigned char node_marker = 1;
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = md != NULL && ctx != NULL;
    for (size_t i = 0; ok && i < pairs; i++)
        ok = EVP_DigestInit_ex(ctx, md, NULL)
             && EVP_DigestUpdate(ctx, &node_marker, 1)
             && EVP_DigestUpdate(ctx, level + 64 * i, 64)
             && EVP_DigestFinal_ex(ctx, out + 32 * i, NULL);
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    return ok;
}
""",
    libraries=["crypto"],
)

if __name__ == "__main__":
    ffi.compile(verbose=True)
