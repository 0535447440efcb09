/* h1: the kit's strict HTTP/1.1 request parser (RFC 9112 message syntax, RFC 9110
   field syntax). Plain C, no Python: the request head is parsed in one pass once it
   is complete, a chunked body incrementally, byte by byte. What it refuses, and
   with which status, is listed in runtime/README.md ("The request parser"). */
#ifndef H1_H
#define H1_H

#include <stddef.h>
#include <stdint.h>

#define H1_MAX_METHOD 32       /* bytes of a method */
#define H1_MAX_TARGET 8192     /* bytes of a request-target: longer is 414 */
#define H1_MAX_FIELD_LINE 8192 /* bytes of one field line: longer is 431 */
#define H1_MAX_FIELDS 128      /* field lines in a head or a trailer section: 431 */
#define H1_MAX_HEAD 65536      /* bytes of a head, or of a trailer section: 431 */
#define H1_MAX_CHUNK_LINE 4096 /* bytes of a chunk-size line with its extensions */

typedef struct {
  const char *name;
  size_t name_len;
  const char *value; /* without leading and trailing whitespace */
  size_t value_len;
} h1_field;

/* A parsed request head. Every pointer points into the buffer that was parsed. */
typedef struct {
  const char *method;
  size_t method_len;
  const char *path; /* raw (percent-encoded), no query; "/" or "*" at least */
  size_t path_len;
  const char *query; /* after "?", or NULL */
  size_t query_len;
  int minor;            /* HTTP/1.<minor>: 0 or 1 */
  int head;             /* the method is HEAD: the response has no body */
  int keep_alive;       /* the connection may stay open after the response */
  int expect_continue;  /* Expect: 100-continue (HTTP/1.1) */
  int upgrade;          /* Upgrade: websocket with Connection: upgrade */
  int chunked;          /* the body is chunked */
  int has_length;       /* Content-Length given (content_length is valid) */
  uint64_t content_length; /* saturates at UINT64_MAX */
  /* The fields the application sees, in order: names with "_" left out
     (gunicorn's default), Content-Length left out (content_length says it), and
     for an absolute-form target, Host replaced by the target's authority. */
  size_t nfields;
  h1_field fields[H1_MAX_FIELDS + 1];
} h1_request;

/* Where a request head ends. SCANNED keeps the progress between calls on a
   growing buffer (start it at 0), so each byte is looked at once. Returns the
   head's length (leading empty lines and the final empty line included) when
   BUF holds it whole, 0 when more bytes are needed, -1 when a bare LF or a bare
   CR shows the head is invalid (h1_parse_head says why). */
long h1_head_end(const char *buf, size_t len, size_t *scanned);

/* Parses the complete head BUF[0..LEN) (LEN from h1_head_end, or all there is
   when it reported -1 or the buffer is full). Returns 0 and fills REQ, or the
   status to answer (400, 414, 417, 431, 501, 505) with *REASON set to a fixed
   text. */
int h1_parse_head(const char *buf, size_t len, h1_request *req,
                  const char **reason);

/* The state of a chunked body being decoded. */
typedef struct {
  int state;
  int digits;            /* hex digits of the chunk size so far */
  uint64_t left;         /* bytes of chunk data still to come */
  size_t line;           /* bytes of the current chunk or trailer line */
  size_t trailer_bytes;  /* bytes of the trailer section so far */
  size_t trailer_fields; /* trailer field lines so far */
  size_t name_len;       /* bytes of the trailer field name so far */
  char name[20];         /* its start, lower-cased */
} h1_chunked;

typedef int (*h1_data_cb)(void *ctx, const char *data, size_t len);

/* Starts decoding a chunked body. */
void h1_chunked_init(h1_chunked *c);

/* Decodes BUF[0..LEN): chunk data goes to ON_DATA (which returns non-zero to
   stop). Returns the bytes consumed: LEN, or fewer when the body ended inside
   BUF (*DONE is then 1; what follows belongs to the next request). -1 on an
   error: *STATUS and *REASON say what to answer (ON_DATA's stop gives status
   0). */
long h1_chunked_feed(h1_chunked *c, const char *buf, size_t len,
                     h1_data_cb on_data, void *ctx, int *done, int *status,
                     const char **reason);

/* Decodes the percent-escapes of SRC[0..LEN) into DST (LEN bytes at least); an
   invalid escape is kept as it is. Returns the decoded length. */
size_t h1_percent_decode(const char *src, size_t len, char *dst);

#endif
