/* wire: one HTTP exchange of the chaos tools with the stack, on a caller-owned
 * libcurl easy handle (kept alive between requests, like a real client), with
 * what the chaos checks need from the answer: status, X-Cache, whether an
 * error body has the contract's {"detail": ...} shape, the time it took, and
 * the body itself when asked for.
 * Ownership: a struct wire_reply owns its body (wire_reply_free). Nothing is
 * global, so every thread uses its own handle. */
#ifndef GUILD_CHAOS_WIRE_H
#define GUILD_CHAOS_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum wire_xcache { WIRE_XC_NONE, WIRE_XC_HIT, WIRE_XC_MISS, WIRE_XC_BYPASS };

struct wire_reply {
    int status;            /* HTTP status; 0 when no answer arrived (transport error) */
    enum wire_xcache xcache;
    int json_ct;           /* Content-Type is application/json */
    int64_t lat_us;        /* send to last byte */
    char *body;            /* NUL-terminated; NULL when empty or not kept */
    size_t body_len;
    char err[96];          /* curl's error when status is 0 */
};

/* A new handle for base_url requests (timeouts: connect 2 s, total timeout_ms).
 * NULL on failure. wire_close(NULL) is a no-op. */
void *wire_open(long timeout_ms);
void wire_close(void *h);

/* method url with an optional body (ctype its Content-Type) and bearer token.
 * Fills *out (free it with wire_reply_free). Returns 0 when an HTTP answer
 * arrived, -1 otherwise (out->status 0, out->err says why). */
int wire_call(void *h, const char *method, const char *url, const char *ctype,
              const char *body, const char *token, struct wire_reply *out);

void wire_reply_free(struct wire_reply *r);

/* True when r's body is a JSON object with a string or array "detail". */
int wire_has_detail(const struct wire_reply *r);

/* CLOCK_MONOTONIC in microseconds. */
int64_t wire_now_us(void);

#endif
