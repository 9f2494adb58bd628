"""Build recipe (cffi, API mode) for `custodes.ledger._native`: the ledger's batch work in C.

Python's hashlib costs about 0.4 µs per call on top of the hashing and holds the GIL for
messages under 2 KiB, which is every leaf of the ledger; pyarrow's element-wise join costs about
20 ns per piece, and an event's canonical encoding has 30 to 70 pieces. These loops do a whole
batch per call, with cffi releasing the GIL around each, so the ledger's work runs beside the
ingest on the other core:

- `encode_rows` writes each row's canonical encoding (or, given no buffer, measures it) from
  string arrays: a value as it is, or as a netstring after a header (`docs/ledger.md`);
- `sha256_rows` hashes each row's encoding without storing it (one scratch buffer);
- `sha256_pairs` hashes pairs of nodes, a whole level of the Merkle tree at a time.

The hashing is OpenSSL's SHA-256 (the EVP interface, one context reused). `custodes.ledger.native`
is the Python face. `pip install` builds this (setup.py names it in `cffi_modules`); it needs a C
compiler and OpenSSL's headers (Debian: gcc, libssl-dev; `scripts/setup-system.sh` installs them).
"""

from __future__ import annotations

from cffi import FFI

ffi = FFI()
ffi.cdef(
    """
    typedef struct {
        int kind;  /* 0 the value as it is, 1 netstring after header, 2 the same or "n" */
        const unsigned char *header;
        size_t header_len;
        const unsigned char *data;
        const int32_t *offsets;   /* from the array's first row */
        const uint8_t *validity;  /* NULL: no nulls */
        int64_t validity_offset;
    } piece_t;
    int64_t encode_rows(size_t rows, const unsigned char *lead, size_t lead_len,
                        const piece_t *pieces, size_t count, int32_t *out_offsets,
                        unsigned char *out);
    int sha256_rows(size_t rows, const unsigned char *lead, size_t lead_len,
                    const piece_t *pieces, size_t count, unsigned char *out);
    int sha256_pairs(const unsigned char *level, size_t pairs, unsigned char *out);
    """
)
ffi.set_source(
    "custodes.ledger._native",
    r"""
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int kind;
    const unsigned char *header;
    size_t header_len;
    const unsigned char *data;
    const int32_t *offsets;
    const uint8_t *validity;
    int64_t validity_offset;
} piece_t;

enum { AS_IS = 0, NETSTRING = 1, NETSTRING_OR_N = 2 };

/* Row r of all pieces after `lead`, written to `out` when it is not NULL and `capacity` bytes
   are enough; returns the row's length either way. */
static size_t write_row(size_t r, const unsigned char *lead, size_t lead_len,
                        const piece_t *pieces, size_t count, unsigned char *out,
                        size_t capacity) {
    size_t used = lead_len;
    if (out != NULL && lead_len > capacity)
        out = NULL;
    if (out != NULL)
        memcpy(out, lead, lead_len);
    for (size_t p = 0; p < count; p++) {
        const piece_t *piece = &pieces[p];
        int64_t bit = piece->validity_offset + (int64_t)r;
        if (piece->validity != NULL && !((piece->validity[bit >> 3] >> (bit & 7)) & 1)) {
            if (piece->kind == NETSTRING_OR_N) {
                if (out != NULL && used < capacity)
                    out[used] = 'n';
                else
                    out = NULL;
                used += 1;
            }
            continue;
        }
        size_t length = (size_t)(piece->offsets[r + 1] - piece->offsets[r]);
        if (out != NULL && used + piece->header_len + 24 + length > capacity)
            out = NULL;  /* too small: only measure from here on */
        if (piece->kind != AS_IS) {
            unsigned char digits[24];
            size_t count_digits = 0, rest = length;
            do {
                digits[count_digits++] = (unsigned char)('0' + rest % 10);
                rest /= 10;
            } while (rest);
            if (out != NULL) {
                memcpy(out + used, piece->header, piece->header_len);
                for (size_t d = 0; d < count_digits; d++)
                    out[used + piece->header_len + d] = digits[count_digits - 1 - d];
                out[used + piece->header_len + count_digits] = ':';
            }
            used += piece->header_len + count_digits + 1;
        }
        if (out != NULL)
            memcpy(out + used, piece->data + piece->offsets[r], length);
        used += length;
    }
    return used;
}

/* With `out` NULL: fills `out_offsets` (rows + 1 values) and returns the bytes all rows need
   (-1 past 2 GiB). Then, given `out` that large, writes the rows one after the other. */
static int64_t encode_rows(size_t rows, const unsigned char *lead, size_t lead_len,
                           const piece_t *pieces, size_t count, int32_t *out_offsets,
                           unsigned char *out) {
    int64_t used = 0;
    if (out == NULL)
        out_offsets[0] = 0;
    for (size_t r = 0; r < rows; r++) {
        used += (int64_t)write_row(r, lead, lead_len, pieces, count,
                                   out == NULL ? NULL : out + used, SIZE_MAX);
        if (used > INT32_MAX)
            return -1;
        if (out == NULL)
            out_offsets[r + 1] = (int32_t)used;
    }
    return used;
}

/* out[32 * r] = SHA-256(row r as `encode_rows` writes it), for r < rows; 1 when all went well. */
static int sha256_rows(size_t rows, const unsigned char *lead, size_t lead_len,
                       const piece_t *pieces, size_t count, unsigned char *out) {
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t capacity = 1 << 16;
    unsigned char *row = malloc(capacity);
    int ok = md != NULL && ctx != NULL && row != NULL;
    for (size_t r = 0; ok && r < rows; r++) {
        size_t length = write_row(r, lead, lead_len, pieces, count, row, capacity);
        if (length > capacity) {  /* rare: a row larger than any before; grow and write again */
            unsigned char *larger = realloc(row, length * 2);
            ok = larger != NULL;
            if (!ok)
                break;
            row = larger;
            capacity = length * 2;
            write_row(r, lead, lead_len, pieces, count, row, capacity);
        }
        ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, row, length)
             && EVP_DigestFinal_ex(ctx, out + 32 * r, NULL);
    }
    free(row);
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
