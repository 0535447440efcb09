/* h1: the kit's strict HTTP/1.1 request parser; see h1.h. */
#include "h1.h"

#include <string.h>

#define CR '\r'
#define LF '\n'

/* Character classes, from RFC 9110 5.6.2 (tchar) and 5.5 (field-vchar). */
enum {
  C_TCHAR = 1,   /* a token character */
  C_VCHAR = 2,   /* a field value character: VCHAR, obs-text, SP, HTAB */
  C_TARGET = 4,  /* a request-target character: VCHAR but "#" */
  C_HEX = 8,     /* a hex digit */
  C_HOST = 16,   /* a Host character (RFC 3986 reg-name, IP-literal, port) */
};

static unsigned char classes[256];

static void init_classes(void) {
  if (classes['a']) {
    return; /* done */
  }
  const char *tchar_extra = "!#$%&'*+-.^_`|~";
  const char *host_extra = "-._~!$&'()*+,;=%:[]";
  int c;

  for (c = 0; c < 256; c++) {
    unsigned char k = 0;
    int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                (c >= 'A' && c <= 'Z');
    if (alnum || (c && strchr(tchar_extra, c))) {
      k |= C_TCHAR;
    }
    if ((c >= 0x20 && c != 0x7f) || c == '\t') {
      k |= C_VCHAR;
    }
    if (c > 0x20 && c < 0x7f && c != '#') {
      k |= C_TARGET;
    }
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
        (c >= 'A' && c <= 'F')) {
      k |= C_HEX;
    }
    if (alnum || (c && strchr(host_extra, c))) {
      k |= C_HOST;
    }
    classes[c] = k;
  }
}

static inline int is(unsigned char c, int k) { return classes[c] & k; }

static inline int lower(int c) {
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Case-insensitive equality of S[0..LEN) and the lower-case NAME. */
static int name_is(const char *s, size_t len, const char *name) {
  size_t i;
  if (strlen(name) != len) {
    return 0;
  }
  for (i = 0; i < len; i++) {
    if (lower((unsigned char)s[i]) != name[i]) {
      return 0;
    }
  }
  return 1;
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }

long h1_head_end(const char *buf, size_t len, size_t *scanned) {
  size_t i = *scanned, start = 0;

  /* empty lines before the request line (RFC 9112 2.2) are skipped */
  while (start + 1 < len && buf[start] == CR && buf[start + 1] == LF) {
    start += 2;
  }
  if (i < start) {
    i = start;
  }
  for (; i < len; i++) {
    if (buf[i] == LF) {
      if (i == 0 || buf[i - 1] != CR) {
        return -1; /* a bare LF */
      }
      if (i >= start + 3 && buf[i - 2] == LF && buf[i - 3] == CR) {
        *scanned = i + 1;
        return (long)(i + 1);
      }
    } else if (i > 0 && buf[i - 1] == CR) {
      return -1; /* a bare CR */
    }
  }
  /* a CR at the very end waits for its LF */
  *scanned = len;
  return 0;
}

/* A Host value (RFC 9112 3.2, RFC 3986 3.2.2): host [":" port], where host is
   an IP-literal in brackets or a reg-name (IPv4 included), port digits. */
static int valid_host(const char *s, size_t len) {
  size_t i = 0;

  if (len > 0 && s[0] == '[') {
    for (i = 1; i < len && s[i] != ']'; i++) {
      if (!is((unsigned char)s[i], C_HOST) || s[i] == '[') {
        return 0;
      }
    }
    if (i == len) {
      return 0;
    }
    i++;
  } else {
    while (i < len && s[i] != ':') {
      if (!is((unsigned char)s[i], C_HOST) || s[i] == '[' || s[i] == ']') {
        return 0;
      }
      i++;
    }
  }
  if (i < len) {
    if (s[i] != ':') {
      return 0;
    }
    for (i++; i < len; i++) {
      if (s[i] < '0' || s[i] > '9') {
        return 0;
      }
    }
  }
  return 1;
}

/* Parses a Content-Length value (a list of identical numbers is one number).
   0, or 400. */
static int parse_length(const char *s, size_t len, h1_request *req,
                        const char **reason) {
  size_t i = 0;

  for (;;) {
    uint64_t v = 0;
    size_t digits = 0;
    while (i < len && is_ows(s[i])) {
      i++;
    }
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      uint64_t d = (uint64_t)(s[i] - '0');
      v = (v > (UINT64_MAX - d) / 10) ? UINT64_MAX : v * 10 + d;
      digits++;
      i++;
    }
    while (i < len && is_ows(s[i])) {
      i++;
    }
    if (digits == 0 || (i < len && s[i] != ',')) {
      *reason = "invalid Content-Length";
      return 400;
    }
    if (req->has_length && req->content_length != v) {
      *reason = "conflicting Content-Length values";
      return 400;
    }
    req->has_length = 1;
    req->content_length = v;
    if (i == len) {
      return 0;
    }
    i++; /* the comma */
  }
}

/* Transfer-Encoding, as a list across its field lines. */
typedef struct {
  int present;  /* a Transfer-Encoding field was received */
  int codings;  /* codings in the list */
  int chunked;  /* times chunked appeared */
  int last_chunked; /* the last coding is chunked */
  int other;    /* a coding other than chunked (or chunked with parameters) */
} te_list;

/* Adds a Transfer-Encoding field value to TE. 0, or 400. */
static int parse_te(const char *s, size_t len, te_list *te,
                    const char **reason) {
  size_t i = 0;

  te->present = 1;
  while (i <= len) {
    size_t start, end;
    while (i < len && is_ows(s[i])) {
      i++;
    }
    start = i;
    while (i < len && is((unsigned char)s[i], C_TCHAR)) {
      i++;
    }
    end = i;
    while (i < len && is_ows(s[i])) {
      i++;
    }
    if (end == start) {
      if (i < len && s[i] != ',') {
        *reason = "invalid Transfer-Encoding";
        return 400;
      }
    } else {
      int params = 0;
      if (i < len && s[i] == ';') {
        /* transfer-parameters: the coding is not one we decode */
        params = 1;
        while (i < len && s[i] != ',') {
          if (s[i] == '"') {
            *reason = "invalid Transfer-Encoding";
            return 400;
          }
          i++;
        }
      } else if (i < len && s[i] != ',') {
        *reason = "invalid Transfer-Encoding";
        return 400;
      }
      te->codings++;
      if (name_is(s + start, end - start, "chunked")) {
        te->chunked++;
        te->last_chunked = !params;
        if (params) {
          *reason = "parameters on the chunked coding";
          return 400;
        }
      } else {
        te->other = 1;
        te->last_chunked = 0;
      }
    }
    i++; /* the comma, or past the end */
  }
  return 0;
}

/* Connection options: close, keep-alive, upgrade. */
static void parse_connection(const char *s, size_t len, int *close,
                             int *keep_alive, int *upgrade) {
  size_t i = 0;
  while (i < len) {
    size_t start;
    while (i < len && (is_ows(s[i]) || s[i] == ',')) {
      i++;
    }
    start = i;
    while (i < len && s[i] != ',' && !is_ows(s[i])) {
      i++;
    }
    if (name_is(s + start, i - start, "close")) {
      *close = 1;
    } else if (name_is(s + start, i - start, "keep-alive")) {
      *keep_alive = 1;
    } else if (name_is(s + start, i - start, "upgrade")) {
      *upgrade = 1;
    }
  }
}

/* Splits the request-target T[0..N) into REQ's path and query, and an absolute
   form's authority into *AUTHORITY. 0, or 400. */
static int parse_target(const char *t, size_t n, h1_request *req,
                        const char **authority, size_t *authority_len,
                        const char **reason) {
  const char *q;
  size_t i;

  if (t[0] == '*' && n == 1) {
    if (!(req->method_len == 7 && !memcmp(req->method, "OPTIONS", 7))) {
      *reason = "asterisk-form target without OPTIONS";
      return 400;
    }
    req->path = t;
    req->path_len = 1;
    return 0;
  }
  if (t[0] != '/') {
    size_t scheme = 0;
    if (n > 7 && name_is(t, 7, "http://")) {
      scheme = 7;
    } else if (n > 8 && name_is(t, 8, "https://")) {
      scheme = 8;
    } else {
      *reason = "invalid request-target";
      return 400;
    }
    for (i = scheme; i < n && t[i] != '/' && t[i] != '?'; i++) {
      if (t[i] == '@') {
        *reason = "userinfo in the request-target";
        return 400;
      }
    }
    if (i == scheme || !valid_host(t + scheme, i - scheme)) {
      *reason = "invalid authority in the request-target";
      return 400;
    }
    *authority = t + scheme;
    *authority_len = i - scheme;
    t += i;
    n -= i;
    if (n == 0 || t[0] == '?') {
      req->path = "/";
      req->path_len = 1;
      if (n) {
        req->query = t + 1;
        req->query_len = n - 1;
      }
      return 0;
    }
  }
  q = memchr(t, '?', n);
  req->path = t;
  req->path_len = q ? (size_t)(q - t) : n;
  if (q) {
    req->query = q + 1;
    req->query_len = n - (size_t)(q - t) - 1;
  }
  return 0;
}

/* The request line at S[0..LEN) (LEN: up to its CR). 0, or a status. */
static int parse_request_line(const char *s, size_t len, h1_request *req,
                              const char **target, size_t *target_len,
                              const char **reason) {
  size_t i = 0, start;
  const char *v;

  while (i < len && is((unsigned char)s[i], C_TCHAR)) {
    i++;
  }
  if (i == 0 || i == len || s[i] != ' ') {
    *reason = "invalid request line";
    return 400;
  }
  if (i > H1_MAX_METHOD) {
    *reason = "method too long";
    return 400;
  }
  req->method = s;
  req->method_len = i;
  start = ++i;
  while (i < len && is((unsigned char)s[i], C_TARGET)) {
    i++;
  }
  if (i - start > H1_MAX_TARGET) {
    *reason = "request-target too long";
    return 414;
  }
  if (i == start || i == len || s[i] != ' ') {
    *reason = i == len ? "no HTTP version in the request line"
                       : "invalid request-target";
    return 400;
  }
  *target = s + start;
  *target_len = i - start;
  v = s + i + 1;
  if (len - i - 1 != 8 || memcmp(v, "HTTP/", 5) || v[6] != '.' ||
      v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') {
    *reason = "invalid HTTP version";
    return 400;
  }
  if (v[5] != '1') {
    *reason = "unsupported HTTP version";
    return 505;
  }
  req->minor = v[7] == '0' ? 0 : 1;
  return 0;
}

int h1_parse_head(const char *buf, size_t len, h1_request *req,
                  const char **reason) {
  const char *p = buf, *end = buf + len, *eol;
  const char *target = NULL, *authority = NULL;
  size_t target_len = 0, authority_len = 0, lines = 0;
  int status, hosts = 0, close = 0, keep_alive = 0, conn_upgrade = 0;
  int websocket = 0, expect = 0;
  te_list te = {0, 0, 0, 0, 0};

  init_classes();
  memset(req, 0, offsetof(h1_request, fields));
  while (end - p >= 2 && p[0] == CR && p[1] == LF) {
    p += 2;
  }
  /* the request line */
  eol = memchr(p, CR, (size_t)(end - p));
  if (eol == NULL || eol + 1 == end) {
    /* an incomplete head (only when the buffer is full): say why if we can */
    eol = end;
  }
  status = parse_request_line(p, (size_t)(eol - p), req, &target, &target_len,
                              reason);
  if (status) {
    return status;
  }
  if (eol + 1 >= end) {
    *reason = "request head too large";
    return 431;
  }
  if (eol[1] != LF) {
    *reason = "bare CR in the head";
    return 400;
  }
  if (req->method_len == 7 && !memcmp(req->method, "CONNECT", 7)) {
    *reason = "CONNECT is not supported";
    return 501;
  }
  status = parse_target(target, target_len, req, &authority, &authority_len,
                        reason);
  if (status) {
    return status;
  }
  req->head = req->method_len == 4 && !memcmp(req->method, "HEAD", 4);
  p = eol + 2;

  /* the field lines */
  for (;;) {
    const char *name = p, *value, *vend;
    size_t name_len;
    h1_field *f;

    if (p >= end) {
      *reason = "request head too large";
      return 431;
    }
    if (*p == CR) {
      if (p + 1 < end && p[1] == LF) {
        p += 2;
        break; /* the empty line: the end of the head */
      }
      *reason = "bare CR in the head";
      return 400;
    }
    if (is_ows(*p)) {
      *reason = "obsolete line folding";
      return 400;
    }
    while (p < end && is((unsigned char)*p, C_TCHAR)) {
      p++;
    }
    name_len = (size_t)(p - name);
    if (p == end) {
      *reason = "request head too large";
      return 431;
    }
    if (*p != ':' || name_len == 0) {
      *reason = is_ows(*p) && name_len ? "whitespace before the colon"
                                       : "invalid field name";
      return 400;
    }
    p++;
    while (p < end && is_ows(*p)) {
      p++;
    }
    value = p;
    while (p < end && is((unsigned char)*p, C_VCHAR)) {
      p++;
    }
    if (p == end) {
      *reason = "request head too large";
      return 431;
    }
    if (*p != CR) {
      *reason = *p == LF ? "bare LF in the head"
                         : "control character in a field value";
      return 400;
    }
    if (p + 1 == end) {
      *reason = "request head too large";
      return 431;
    }
    if (p[1] != LF) {
      *reason = "bare CR in the head";
      return 400;
    }
    vend = p;
    while (vend > value && is_ows(vend[-1])) {
      vend--;
    }
    p += 2;
    if ((size_t)(p - name) > H1_MAX_FIELD_LINE) {
      *reason = "field line too long";
      return 431;
    }
    if (++lines > H1_MAX_FIELDS) {
      *reason = "too many fields";
      return 431;
    }
    if (memchr(name, '_', name_len)) {
      continue; /* dropped, as gunicorn does by default */
    }
    switch (lower((unsigned char)name[0])) {
      case 'c':
        if (name_is(name, name_len, "content-length")) {
          status = parse_length(value, (size_t)(vend - value), req, reason);
          if (status) {
            return status;
          }
          continue; /* CONTENT_LENGTH comes from content_length */
        }
        if (name_is(name, name_len, "connection")) {
          parse_connection(value, (size_t)(vend - value), &close, &keep_alive,
                           &conn_upgrade);
        }
        break;
      case 'e':
        if (name_is(name, name_len, "expect")) {
          expect++;
          if (!name_is(value, (size_t)(vend - value), "100-continue")) {
            expect = 100; /* anything else fails (if HTTP/1.1) */
          }
        }
        break;
      case 'h':
        if (name_is(name, name_len, "host")) {
          if (++hosts > 1) {
            *reason = "more than one Host";
            return 400;
          }
          if (!valid_host(value, (size_t)(vend - value))) {
            *reason = "invalid Host";
            return 400;
          }
          if (authority) {
            continue; /* the target's authority replaces it */
          }
        }
        break;
      case 't':
        if (name_is(name, name_len, "transfer-encoding")) {
          status = parse_te(value, (size_t)(vend - value), &te, reason);
          if (status) {
            return status;
          }
        }
        break;
      case 'u':
        if (name_is(name, name_len, "upgrade") &&
            name_is(value, (size_t)(vend - value), "websocket")) {
          websocket = 1;
        }
        break;
    }
    f = &req->fields[req->nfields++];
    f->name = name;
    f->name_len = name_len;
    f->value = value;
    f->value_len = (size_t)(vend - value);
  }

  if (req->minor == 1 && hosts == 0) {
    *reason = "no Host in an HTTP/1.1 request";
    return 400;
  }
  if (authority) {
    h1_field *f = &req->fields[req->nfields++];
    f->name = "Host";
    f->name_len = 4;
    f->value = authority;
    f->value_len = authority_len;
  }
  if (te.present) {
    if (req->has_length) {
      *reason = "both Transfer-Encoding and Content-Length";
      return 400;
    }
    if (req->minor == 0) {
      *reason = "Transfer-Encoding in an HTTP/1.0 request";
      return 400;
    }
    if (!te.last_chunked || te.chunked != 1) {
      *reason = "chunked is not the final transfer coding, once";
      return 400;
    }
    if (te.other) {
      *reason = "unsupported transfer coding";
      return 501;
    }
    req->chunked = 1;
  }
  if (req->minor == 1) {
    if (expect >= 100) {
      *reason = "unsupported expectation";
      return 417;
    }
    req->expect_continue = expect > 0;
  }
  req->keep_alive = req->minor == 1 ? !close : (keep_alive && !close);
  req->upgrade = websocket && conn_upgrade;
  return 0;
}

/* Chunked body states. */
enum {
  S_SIZE = 0,     /* chunk-size digits */
  S_SIZE_WS,      /* whitespace after the size: a ";" must follow */
  S_EXT_PRE_NAME, /* after ";" */
  S_EXT_NAME,
  S_EXT_POST_NAME, /* whitespace after a name: "=" or ";" must follow */
  S_EXT_PRE_VALUE, /* after "=" */
  S_EXT_TOKEN,
  S_EXT_QUOTED,
  S_EXT_QUOTED_ESC,
  S_EXT_AFTER_QUOTED,
  S_EXT_POST_VALUE, /* after a value: whitespace, then ";" */
  S_SIZE_LF,        /* CR seen at the end of the size line */
  S_DATA,
  S_DATA_CR,
  S_DATA_LF,
  S_TRAILER_START, /* the start of a trailer line (or the final CRLF) */
  S_TRAILER_NAME,
  S_TRAILER_VALUE,
  S_TRAILER_LF,
  S_END_LF, /* CR of the final empty line seen */
  S_DONE,
};

void h1_chunked_init(h1_chunked *c) {
  init_classes();
  memset(c, 0, sizeof(*c));
}

static const char *forbidden_trailers[] = {"content-length",
                                           "transfer-encoding", "host", NULL};

long h1_chunked_feed(h1_chunked *c, const char *buf, size_t len,
                     h1_data_cb on_data, void *ctx, int *done, int *status,
                     const char **reason) {
  size_t i = 0;

  *done = 0;
  while (i < len) {
    unsigned char ch = (unsigned char)buf[i];

    if (c->state == S_DATA) {
      size_t n = len - i;
      if (n > c->left) {
        n = (size_t)c->left;
      }
      if (on_data(ctx, buf + i, n)) {
        *status = 0;
        *reason = "body refused";
        return -1;
      }
      c->left -= n;
      i += n;
      if (c->left == 0) {
        c->state = S_DATA_CR;
      }
      continue;
    }
    i++;
    if (c->state < S_DATA && ++c->line > H1_MAX_CHUNK_LINE) {
      *reason = "chunk line too long";
      goto bad;
    }
    switch (c->state) {
      case S_SIZE:
        if (is(ch, C_HEX)) {
          int d = ch <= '9' ? ch - '0' : lower(ch) - 'a' + 10;
          if (++c->digits > 16) {
            *reason = "chunk size too large";
            goto bad;
          }
          c->left = (c->left << 4) | (uint64_t)d;
          continue;
        }
        if (c->digits == 0) {
          *reason = "invalid chunk size";
          goto bad;
        }
        if (ch == ';') {
          c->state = S_EXT_PRE_NAME;
        } else if (is_ows((char)ch)) {
          c->state = S_SIZE_WS;
        } else if (ch == CR) {
          c->state = S_SIZE_LF;
        } else {
          *reason = "invalid chunk size";
          goto bad;
        }
        continue;
      case S_SIZE_WS:
      case S_EXT_POST_VALUE:
        if (ch == ';') {
          c->state = S_EXT_PRE_NAME;
        } else if (!is_ows((char)ch)) {
          *reason = "invalid chunk extension";
          goto bad;
        }
        continue;
      case S_EXT_PRE_NAME:
        if (is(ch, C_TCHAR)) {
          c->state = S_EXT_NAME;
        } else if (!is_ows((char)ch)) {
          *reason = "invalid chunk extension";
          goto bad;
        }
        continue;
      case S_EXT_NAME:
      case S_EXT_TOKEN:
        if (is(ch, C_TCHAR)) {
          continue;
        }
        if (ch == CR) {
          c->state = S_SIZE_LF;
        } else if (ch == ';') {
          c->state = S_EXT_PRE_NAME;
        } else if (c->state == S_EXT_NAME && ch == '=') {
          c->state = S_EXT_PRE_VALUE;
        } else if (is_ows((char)ch)) {
          c->state = c->state == S_EXT_NAME ? S_EXT_POST_NAME
                                            : S_EXT_POST_VALUE;
        } else {
          *reason = "invalid chunk extension";
          goto bad;
        }
        continue;
      case S_EXT_POST_NAME:
        if (ch == '=') {
          c->state = S_EXT_PRE_VALUE;
        } else if (ch == ';') {
          c->state = S_EXT_PRE_NAME;
        } else if (!is_ows((char)ch)) {
          *reason = "invalid chunk extension";
          goto bad;
        }
        continue;
      case S_EXT_PRE_VALUE:
        if (ch == '"') {
          c->state = S_EXT_QUOTED;
        } else if (is(ch, C_TCHAR)) {
          c->state = S_EXT_TOKEN;
        } else if (!is_ows((char)ch)) {
          *reason = "invalid chunk extension";
          goto bad;
        }
        continue;
      case S_EXT_QUOTED:
        if (ch == '\\') {
          c->state = S_EXT_QUOTED_ESC;
        } else if (ch == '"') {
          c->state = S_EXT_AFTER_QUOTED;
        } else if (!is(ch, C_VCHAR)) {
          *reason = "invalid chunk extension";
          goto bad;
        }
        continue;
      case S_EXT_AFTER_QUOTED:
        if (ch == CR) {
          c->state = S_SIZE_LF;
        } else if (ch == ';') {
          c->state = S_EXT_PRE_NAME;
        } else if (is_ows((char)ch)) {
          c->state = S_EXT_POST_VALUE;
        } else {
          *reason = "invalid chunk extension";
          goto bad;
        }
        continue;
      case S_EXT_QUOTED_ESC:
        if (!is(ch, C_VCHAR)) {
          *reason = "invalid chunk extension";
          goto bad;
        }
        c->state = S_EXT_QUOTED;
        continue;
      case S_SIZE_LF:
        if (ch != LF) {
          *reason = "bare CR in a chunk line";
          goto bad;
        }
        c->line = 0;
        c->digits = 0;
        c->state = c->left ? S_DATA : S_TRAILER_START;
        continue;
      case S_DATA_CR:
        if (ch != CR) {
          *reason = "chunk data not followed by CRLF";
          goto bad;
        }
        c->state = S_DATA_LF;
        continue;
      case S_DATA_LF:
        if (ch != LF) {
          *reason = "chunk data not followed by CRLF";
          goto bad;
        }
        c->state = S_SIZE;
        continue;
      default:
        break;
    }

    /* the trailer section */
    if (++c->trailer_bytes > H1_MAX_HEAD || ++c->line > H1_MAX_FIELD_LINE) {
      *status = 431;
      *reason = "trailer section too large";
      return -1;
    }
    switch (c->state) {
      case S_TRAILER_START:
        if (ch == CR) {
          c->state = S_END_LF;
        } else if (is(ch, C_TCHAR)) {
          if (++c->trailer_fields > H1_MAX_FIELDS) {
            *status = 431;
            *reason = "too many trailer fields";
            return -1;
          }
          c->name[0] = (char)lower(ch);
          c->name_len = 1;
          c->state = S_TRAILER_NAME;
        } else {
          *reason = is_ows((char)ch) ? "obsolete line folding"
                                     : "invalid trailer field";
          goto bad;
        }
        continue;
      case S_TRAILER_NAME:
        if (is(ch, C_TCHAR)) {
          if (c->name_len < sizeof(c->name)) {
            c->name[c->name_len] = (char)lower(ch);
          }
          c->name_len++;
        } else if (ch == ':') {
          const char **f;
          for (f = forbidden_trailers; *f; f++) {
            if (c->name_len == strlen(*f) &&
                !memcmp(c->name, *f, c->name_len)) {
              *reason = "a framing field as a trailer";
              goto bad;
            }
          }
          c->state = S_TRAILER_VALUE;
        } else {
          *reason = is_ows((char)ch) ? "whitespace before the colon"
                                     : "invalid trailer field";
          goto bad;
        }
        continue;
      case S_TRAILER_VALUE:
        if (ch == CR) {
          c->state = S_TRAILER_LF;
        } else if (!is(ch, C_VCHAR)) {
          *reason = ch == LF ? "bare LF in a trailer"
                             : "control character in a trailer";
          goto bad;
        }
        continue;
      case S_TRAILER_LF:
        if (ch != LF) {
          *reason = "bare CR in a trailer";
          goto bad;
        }
        c->line = 0;
        c->state = S_TRAILER_START;
        continue;
      case S_END_LF:
        if (ch != LF) {
          *reason = "bare CR in a trailer";
          goto bad;
        }
        c->state = S_DONE;
        *done = 1;
        return (long)i;
      default:
        *reason = "chunked body already ended";
        goto bad;
    }
  }
  return (long)i;

bad:
  *status = 400;
  return -1;
}

size_t h1_percent_decode(const char *src, size_t len, char *dst) {
  size_t i = 0, n = 0;

  init_classes();
  while (i < len) {
    unsigned char a, b;
    if (src[i] == '%' && i + 2 < len && is((unsigned char)src[i + 1], C_HEX) &&
        is((unsigned char)src[i + 2], C_HEX)) {
      a = (unsigned char)src[i + 1];
      b = (unsigned char)src[i + 2];
      a = a <= '9' ? a - '0' : (unsigned char)(lower(a) - 'a' + 10);
      b = b <= '9' ? b - '0' : (unsigned char)(lower(b) - 'a' + 10);
      dst[n++] = (char)(a << 4 | b);
      i += 3;
    } else {
      dst[n++] = src[i++];
    }
  }
  return n;
}
