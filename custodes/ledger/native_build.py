"""Build recipe (cffi, API mode) for `custodes.ledger._native`: SHA-256 of many messages per call.

Python's hashlib costs about 0.4 µs per call on top of the hashing and holds the GIL for
messages under 2 KiB, which is every leaf of the ledger. These loops call OpenSSL's SHA-256
(the EVP interface, one context reused) over every row of a batch or a whole level of the tree,
and cffi releases the GIL around each call, so hashing runs beside the ingest on the other core.
The hashing itself is OpenSSL's; `custodes.ledger.native` is the Python face.

`sha256_rows` hashes each row's concatenation of several Arrow string arrays: the pieces of the
canonical encoding go into the hash without first being joined into one array.

`pip install` builds it (setup.py names this file in `cffi_modules`); it needs a C compiler and
OpenSSL's headers (Debian: gcc, libssl-dev; `scripts/setup-system.sh` installs them).
"""

from __future__ import annotations

from cffi import FFI

ffi = FFI()
ffi.cdef(
    """
    int sha256_pairs(const unsigned char *level, size_t pairs, unsigned char *out);
    int sha256_rows(size_t rows, const unsigned char *lead, size_t lead_len, size_t parts,
                    const unsigned char **data, const int32_t **offsets,
                    const uint8_t **validity, const int64_t *validity_offset,
                    unsigned char *out);
    int64_t join_rows(size_t rows, size_t parts, const unsigned char **data,
                      const int32_t **offsets, const uint8_t **validity,
                      const int64_t *validity_offset, int32_t *out_offsets, unsigned char *out);
    """
)
ffi.set_source(
    "custodes.ledger._native",
    r"""
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* out[32 * r] = SHA-256(lead || part 0 of row r || part 1 of row r || ...) for r < rows.
   Part p is an Arrow string array: its bytes `data[p]`, its offsets from the array's first row
   `offsets[p]`, its validity bitmap `validity[p]` (NULL: no nulls) read from bit
   `validity_offset[p]`. A null value adds nothing. Each row is gathered into one buffer and
   hashed in one call (one update per part would cost more than the gathering). */
static int is_valid(const uint8_t *validity, int64_t bit) {
    return validity == NULL || ((validity[bit >> 3] >> (bit & 7)) & 1);
}

static int sha256_rows(size_t rows, const unsigned char *lead, size_t lead_len, size_t parts,
                       const unsigned char **data, const int32_t **offsets,
                       const uint8_t **validity, const int64_t *validity_offset,
                       unsigned char *out) {
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t capacity = 4096;
    unsigned char *row = malloc(capacity);
    int ok = md != NULL && ctx != NULL && row != NULL && lead_len <= capacity;
    for (size_t r = 0; ok && r < rows; r++) {
        size_t used = lead_len;
        memcpy(row, lead, lead_len);
        for (size_t p = 0; ok && p < parts; p++) {
            if (!is_valid(validity[p], validity_offset[p] + (int64_t)r))
                continue;
            size_t length = (size_t)(offsets[p][r + 1] - offsets[p][r]);
            if (used + length > capacity) {
                size_t grown = capacity;
                while (used + length > grown)
                    grown *= 2;
                unsigned char *larger = realloc(row, grown);
                ok = larger != NULL;
                if (!ok)
                    break;
                row = larger;
                capacity = grown;
            }
            memcpy(row + used, data[p] + offsets[p][r], length);
            used += length;
        }
        ok = ok && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, row, used)
             && EVP_DigestFinal_ex(ctx, out + 32 * r, NULL);
    }
    free(row);
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    return ok;
}

/* The same rows joined into one string array: with `out` NULL, fills `out_offsets` (rows + 1
   values) and returns the bytes needed (-1 past 2 GiB); then, called again with `out` that
   large, copies the bytes. */
static int64_t join_rows(size_t rows, size_t parts, const unsigned char **data,
                         const int32_t **offsets, const uint8_t **validity,
                         const int64_t *validity_offset, int32_t *out_offsets,
                         unsigned char *out) {
    int64_t used = 0;
    if (out == NULL)
        out_offsets[0] = 0;
    for (size_t r = 0; r < rows; r++) {
        for (size_t p = 0; p < parts; p++) {
            if (!is_valid(validity[p], validity_offset[p] + (int64_t)r))
                continue;
            int32_t length = offsets[p][r + 1] - offsets[p][r];
            if (out != NULL)
                memcpy(out + used, data[p] + offsets[p][r], (size_t)length);
            used += length;
        }
        if (used > INT32_MAX)
            return -1;
        if (out == NULL)
            out_offsets[r + 1] = (int32_t)used;
    }
    return used;
}
""",
    libraries=["crypto"],
)

if __name__ == "__main__":
    ffi.compile(verbose=True)
