/* The connection's side of the kit's request parser; see request_parser.h. */
#include "request_parser.h"

#include "h1.h"
#include "input.h"
#include "log.h"
#include "pool.h"
#include "response.h"
#include "server.h"
#include "util.h"

/* What a connection's parser expects next. */
typedef enum { P_HEAD, P_LENGTH, P_CHUNKED } parser_stage;

typedef struct parser_state {
  parser_stage stage;
  char *head;       /* the start of a head that arrived in pieces, or NULL */
  size_t head_len;  /* bytes in head */
  size_t scanned;   /* of head, looked at by h1_head_end */
  uint64_t left;    /* P_LENGTH: body bytes still to come */
  uint8_t upgrade;  /* the request being parsed upgrades to a websocket */
  h1_chunked chunked;
  const char *reason; /* why the request was refused (a fixed text) */
  char method[H1_MAX_METHOD + 1]; /* of the request being parsed, or "" */
} parser_state;

#define MAXFREELIST 1024

static parser_state *free_list[MAXFREELIST];
static int numfree = 0;

/* The environ's constant keys and values, made once. */
static PyObject *environ_template;
static PyObject *empty_string, *separator_string;
static PyObject *server_protocol_key, *protocol_10, *protocol_11;
static PyObject *path_info_key, *query_string_key, *request_method_key;
static PyObject *content_type_key, *content_length_key;
static PyObject *remote_addr_key, *remote_port_key, *client_key;

/* Interned values for the usual methods; any other token is passed as sent. */
static const char *common_methods[] = {"GET",     "POST",  "HEAD",
                                       "PUT",     "DELETE", "PATCH",
                                       "OPTIONS", NULL};
#define COMMON_METHODS 7
static PyObject *common_method_values[COMMON_METHODS];

/* The keys of common header fields, made once (interned, hash cached). */
static const char *common_headers[] = {
    "Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language",
    "Connection", "Cookie", "Referer", "Cache-Control", "Pragma", "Origin",
    "Authorization", "Upgrade-Insecure-Requests", "If-None-Match",
    "If-Modified-Since", "X-Forwarded-For", "X-Forwarded-Proto",
    "X-Forwarded-Host", "X-Real-Ip", "X-Request-Id", "Sec-Fetch-Dest",
    "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User", "Dnt", "Te",
    "Range", "Expect", "Upgrade", "Transfer-Encoding", "Keep-Alive",
    "Priority", NULL};
#define COMMON_HEADERS 32
static PyObject *common_header_keys[COMMON_HEADERS];
static size_t common_header_lens[COMMON_HEADERS];

static PyObject *rejection_logger; /* the error logger's info(), or NULL */

/* Error responses: a fixed text each, made once. */
static const struct {
  int status;
  const char *phrase;
} error_statuses[] = {
    {400, "Bad Request"},
    {408, "Request Timeout"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {417, "Expectation Failed"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
    {505, "HTTP Version Not Supported"},
    {0, NULL},
};
#define ERROR_STATUSES 10
static char *error_pages[ERROR_STATUSES];
static size_t error_page_lens[ERROR_STATUSES], error_head_lens[ERROR_STATUSES];

int init_parser(client_t *cli) {
  parser_state *p;

  p = numfree ? free_list[--numfree] : PyMem_Malloc(sizeof(parser_state));
  if (p == NULL) {
    return -1;
  }
  p->stage = P_HEAD;
  p->head = NULL;
  p->head_len = p->scanned = 0;
  p->upgrade = 0;
  p->reason = NULL;
  p->method[0] = '\0';
  cli->parser = p;
  return 0;
}

void dealloc_parser(client_t *cli) {
  parser_state *p = cli->parser;

  if (p == NULL) {
    return;
  }
  PyMem_Free(p->head);
  if (numfree < MAXFREELIST) {
    free_list[numfree++] = p;
  } else {
    PyMem_Free(p);
  }
  cli->parser = NULL;
}

void parser_list_fill(void) {
  while (numfree < MAXFREELIST) {
    parser_state *p = PyMem_Malloc(sizeof(parser_state));
    if (p == NULL) {
      return;
    }
    free_list[numfree++] = p;
  }
}

void parser_list_clear(void) {
  while (numfree) {
    PyMem_Free(free_list[--numfree]);
  }
}

PyObject *new_environ(client_t *client) {
  PyObject *environ = PyDict_Copy(environ_template);
  if (environ == NULL) {
    return NULL;
  }
  if (PyDict_SetItem(environ, remote_addr_key, client->remote_addr) < 0 ||
      PyDict_SetItem(environ, remote_port_key, client->remote_port) < 0) {
    Py_DECREF(environ);
    return NULL;
  }
  return environ;
}

/* Refuses the request being parsed: STATUS is answered once the requests
   before it are. Returns -1 (to stop the parsing). */
static long reject(client_t *cli, int status, const char *reason) {
  cli->bad_request_code = status;
  cli->parser->reason = reason;
  return -1;
}

/* "HTTP_" + NAME upper-cased, "-" as "_": a str. */
static PyObject *make_header_key(const char *name, size_t len) {
  PyObject *key = PyUnicode_New((Py_ssize_t)len + 5, 127);
  char *dest;
  size_t i;

  if (key == NULL) {
    return NULL;
  }
  dest = (char *)PyUnicode_DATA(key);
  memcpy(dest, "HTTP_", 5);
  for (i = 0; i < len; i++) {
    char c = name[i];
    dest[5 + i] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? c - 32 : c;
  }
  return key;
}

static PyObject *header_key(const char *name, size_t len) {
  int i;

  if (len == 12 && !strncasecmp(name, "Content-Type", 12)) {
    Py_INCREF(content_type_key);
    return content_type_key;
  }
  for (i = 0; common_headers[i] != NULL; i++) {
    if (common_header_lens[i] == len &&
        !strncasecmp(name, common_headers[i], len)) {
      Py_INCREF(common_header_keys[i]);
      return common_header_keys[i];
    }
  }
  return make_header_key(name, len);
}

static PyObject *method_value(const char *method, size_t len) {
  int i;
  for (i = 0; common_methods[i] != NULL; i++) {
    if (strlen(common_methods[i]) == len &&
        !memcmp(method, common_methods[i], len)) {
      Py_INCREF(common_method_values[i]);
      return common_method_values[i];
    }
  }
  return PyUnicode_DecodeLatin1(method, (Py_ssize_t)len, NULL);
}

/* Sets ENV[KEY] to a new reference VALUE (consumed); -1 on an error. */
static int set_new(PyObject *env, PyObject *key, PyObject *value) {
  int ret;
  if (value == NULL) {
    return -1;
  }
  ret = PyDict_SetItem(env, key, value);
  Py_DECREF(value);
  return ret;
}

/* Adds a field to ENV; a repeated field's values are joined with ", ". */
static int add_field(PyObject *env, const h1_field *f) {
  PyObject *key, *value, *old;
  int ret = -1;

  key = header_key(f->name, f->name_len);
  if (key == NULL) {
    return -1;
  }
  value = PyUnicode_DecodeLatin1(f->value, (Py_ssize_t)f->value_len, NULL);
  if (value == NULL) {
    goto end;
  }
  old = PyDict_SetDefault(env, key, value);
  if (old == NULL) {
    goto end;
  }
  if (old == value) {
    ret = 0;
  } else {
    PyObject *joined = PyUnicode_Concat(old, separator_string);
    if (joined != NULL) {
      PyUnicode_Append(&joined, value);
    }
    ret = set_new(env, key, joined);
  }
end:
  Py_XDECREF(value);
  Py_DECREF(key);
  return ret;
}

/* Fills the environ of REQ from the parsed head R. -1 on an error. */
static int fill_environ(PyObject *env, const h1_request *r) {
  char path[H1_MAX_TARGET];
  size_t i, n;

  if (PyDict_SetItem(env, server_protocol_key,
                     r->minor ? protocol_11 : protocol_10) < 0 ||
      set_new(env, request_method_key,
              method_value(r->method, r->method_len)) < 0) {
    return -1;
  }
  n = h1_percent_decode(r->path, r->path_len, path);
  if (set_new(env, path_info_key,
              PyUnicode_DecodeLatin1(path, (Py_ssize_t)n, NULL)) < 0) {
    return -1;
  }
  if (r->query != NULL &&
      set_new(env, query_string_key,
              PyUnicode_DecodeLatin1(r->query, (Py_ssize_t)r->query_len,
                                     NULL)) < 0) {
    return -1;
  }
  for (i = 0; i < r->nfields; i++) {
    if (add_field(env, &r->fields[i]) < 0) {
      return -1;
    }
  }
  if (r->has_length &&
      set_new(env, content_length_key,
              PyUnicode_FromFormat("%llu",
                                   (unsigned long long)r->content_length)) <
          0) {
    return -1;
  }
  return 0;
}

/* The request being parsed (made when its first byte arrives). */
static request *begin_request(client_t *cli) {
  request *req = cli->parsing_req;

  if (req == NULL) {
    req = new_request();
    if (req == NULL) {
      return NULL;
    }
    req->start_msec = current_msec;
    req->environ = new_environ(cli);
    push_request(cli->request_queue, req);
    cli->parsing_req = req;
    cli->parser->method[0] = '\0';
    if (req->environ == NULL) {
      return NULL;
    }
  }
  return req;
}

static void message_complete(client_t *cli) {
  cli->parsing_req->complete = 1;
  cli->parsing_req = NULL;
  cli->parser->stage = P_HEAD;
  cli->upgrade = cli->parser->upgrade;
}

/* Appends body bytes to the request being parsed; non-zero when refused. */
static int write_body(void *ctx, const char *data, size_t len) {
  client_t *cli = (client_t *)ctx;
  request *req = cli->parsing_req;
  buffer_t *body = (buffer_t *)req->body;

  if (max_content_length < (uint64_t)req->body_readed + len) {
    reject(cli, 413, "body larger than the limit");
    return -1;
  }
  if (body == NULL) {
    /* at most client_body_buffer_size up front, whatever a client announces;
       it grows with what arrives */
    size_t size = req->body_length > 0 ? (size_t)req->body_length : len;
    if (size > (size_t)client_body_buffer_size) {
      size = (size_t)client_body_buffer_size;
    }
    body = new_buffer(size + 1, 0);
    if (body == NULL || body->buf == NULL) {
      if (body != NULL) {
        free_buffer(body);
      }
      reject(cli, 500, "out of memory for the body");
      return -1;
    }
    req->body = body;
    req->body_type = BODY_TYPE_BUFFER;
  }
  if (write2buf(body, data, len) != WRITE_OK) {
    PyErr_Clear();
    reject(cli, 500, "out of memory for the body");
    return -1;
  }
  req->body_readed += (int)len;
  return 0;
}

/* The head BUF[0..LEN) is complete: parse it, make the request's environ and
   get ready for its body. 0, or -1 when refused. */
static long complete_head(client_t *cli, const char *buf, size_t len) {
  parser_state *p = cli->parser;
  request *req = cli->parsing_req;
  PyObject *client_object;
  h1_request r;
  const char *reason = NULL;
  int status;

  status = h1_parse_head(buf, len, &r, &reason);
  if (r.method_len > 0 && r.method_len <= H1_MAX_METHOD) {
    memcpy(p->method, r.method, r.method_len);
    p->method[r.method_len] = '\0';
  }
  if (status) {
    return reject(cli, status, reason);
  }
  if (fill_environ(req->environ, &r) < 0) {
    PyErr_Clear();
    return reject(cli, 500, "the environ could not be made");
  }
  req->head_done = 1;
  req->keep_alive = (uint8_t)r.keep_alive;
  req->http_minor = (uint8_t)r.minor;
  req->head_only = (uint8_t)r.head;
  p->upgrade = (uint8_t)r.upgrade;

  if (r.has_length && max_content_length < r.content_length) {
    return reject(cli, 413, "body larger than the limit");
  }
  if ((r.chunked || r.content_length > 0) && r.expect_continue &&
      !cli->serving && cli->request_queue->head == req) {
    /* the client waits for this before it sends the body; a failed write
       shows in the response's */
    if (write(cli->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0) {
      DEBUG("100 Continue not written");
    }
  }
  client_object = ClientObject_New(cli);
  if (set_new(req->environ, client_key, client_object) < 0) {
    PyErr_Clear();
    return reject(cli, 500, "the environ could not be made");
  }
  if (r.chunked) {
    h1_chunked_init(&p->chunked);
    p->stage = P_CHUNKED;
  } else if (r.content_length > 0) {
    req->body_length = (int)r.content_length;
    p->left = r.content_length;
    p->stage = P_LENGTH;
  } else {
    message_complete(cli);
  }
  return 0;
}

/* Refuses an invalid or oversized head BUF[0..LEN): why, h1_parse_head says
   (for a head cut short by the limit, it may find nothing wrong: 431). */
static long reject_head(client_t *cli, const char *buf, size_t len) {
  if (complete_head(cli, buf, len) == 0) {
    return reject(cli, 431, "request head too large");
  }
  return -1;
}

/* P_HEAD: consumes DATA[0..LEN) up to the end of the head. */
static long feed_head(client_t *cli, const char *data, size_t len) {
  parser_state *p = cli->parser;
  long end;
  size_t take, old;
  char *grown;

  if (p->head == NULL) {
    size_t scanned = 0, skip = 0;
    /* empty lines between requests (RFC 9112 2.2) */
    while (skip + 1 < len && data[skip] == '\r' && data[skip + 1] == '\n') {
      skip += 2;
    }
    if (skip > 0 && cli->parsing_req == NULL) {
      return (long)skip;
    }
    if (begin_request(cli) == NULL) {
      PyErr_Clear();
      return reject(cli, 500, "out of memory");
    }
    end = h1_head_end(data, len, &scanned);
    if (end > 0) {
      /* the whole head is here: parsed in place */
      return complete_head(cli, data, (size_t)end) < 0 ? -1 : end;
    }
    if (end < 0 || len >= H1_MAX_HEAD) {
      return reject_head(cli, data, len);
    }
    p->head = PyMem_Malloc(len < 1024 ? 1024 : len);
    if (p->head == NULL) {
      return reject(cli, 500, "out of memory");
    }
    memcpy(p->head, data, len);
    p->head_len = len;
    p->scanned = scanned;
    return (long)len;
  }
  /* the rest of a head that arrived in pieces */
  old = p->head_len;
  take = len < H1_MAX_HEAD - old ? len : H1_MAX_HEAD - old;
  grown = PyMem_Realloc(p->head, old + take);
  if (grown == NULL) {
    return reject(cli, 500, "out of memory");
  }
  p->head = grown;
  memcpy(p->head + old, data, take);
  p->head_len = old + take;
  end = h1_head_end(p->head, p->head_len, &p->scanned);
  if (end > 0) {
    long ret = complete_head(cli, p->head, (size_t)end);
    PyMem_Free(p->head);
    p->head = NULL;
    p->head_len = p->scanned = 0;
    return ret < 0 ? -1 : end - (long)old;
  }
  if (end < 0 || p->head_len >= H1_MAX_HEAD) {
    return reject_head(cli, p->head, p->head_len);
  }
  return (long)take;
}

size_t execute_parse(client_t *cli, const char *data, size_t len) {
  parser_state *p = cli->parser;
  size_t pos = 0;
  long n;
  int done, status;
  const char *reason;

  while (pos < len && !cli->bad_request_code && !cli->upgrade) {
    switch (p->stage) {
      case P_HEAD:
        n = feed_head(cli, data + pos, len - pos);
        break;
      case P_LENGTH:
        n = (long)(len - pos < p->left ? len - pos : p->left);
        if (write_body(cli, data + pos, (size_t)n)) {
          n = -1;
          break;
        }
        p->left -= (uint64_t)n;
        if (p->left == 0) {
          message_complete(cli);
        }
        break;
      default:
        n = h1_chunked_feed(&p->chunked, data + pos, len - pos, write_body,
                            cli, &done, &status, &reason);
        if (n < 0) {
          if (status) {
            reject(cli, status, reason);
          }
        } else if (done) {
          message_complete(cli);
        }
        break;
    }
    if (n < 0) {
      break;
    }
    pos += (size_t)n;
  }
  return pos;
}

/* Default reasons, for refusals the parser did not make. */
static const char *default_reason(int status) {
  switch (status) {
    case 408:
      return "request not received in time";
    case 413:
      return "body larger than the limit";
    default:
      return "refused";
  }
}

void log_rejection(client_t *cli) {
  parser_state *p = cli->parser;
  PyObject *line, *res;
  const char *reason = p && p->reason ? p->reason
                                      : default_reason(cli->bad_request_code);
  const char *method = p ? p->method : "";

  if (rejection_logger == NULL) {
    return;
  }
  /* the method is a token (printable, no quotes); the reason a fixed text */
  line = PyUnicode_FromFormat("Rejected request from %U: %d %s%s%s",
                              cli->remote_addr, cli->bad_request_code, reason,
                              method[0] ? ", method " : "", method);
  if (line == NULL) {
    PyErr_Clear();
    return;
  }
  res = PyObject_CallOneArg(rejection_logger, line);
  Py_DECREF(line);
  if (res == NULL) {
    call_error_logger();
  }
  Py_XDECREF(res);
}

void set_rejection_logger(PyObject *logger) {
  Py_CLEAR(rejection_logger);
  if (logger != NULL && logger != Py_None) {
    rejection_logger = PyObject_GetAttrString(logger, "info");
    if (rejection_logger == NULL) {
      PyErr_Clear(); /* no info(): rejections are not logged */
    }
  }
}

const char *error_page(int status, size_t *len, size_t *head_len) {
  int i;
  for (i = 0; error_statuses[i].status; i++) {
    if (error_statuses[i].status == status) {
      break;
    }
  }
  if (!error_statuses[i].status) {
    i = 6; /* 500 */
  }
  *len = error_page_lens[i];
  *head_len = error_head_lens[i];
  return error_pages[i];
}

static void make_error_pages(void) {
  char page[512];
  int i, head, body;

  for (i = 0; error_statuses[i].status; i++) {
    body = (int)strlen(error_statuses[i].phrase) + 1;
    head = snprintf(page, sizeof(page),
                    "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
                    "charset=utf-8\r\nContent-Length: %d\r\nConnection: "
                    "close\r\nServer: " SERVER "\r\n\r\n",
                    error_statuses[i].status, error_statuses[i].phrase, body);
    snprintf(page + head, sizeof(page) - (size_t)head, "%s\n",
             error_statuses[i].phrase);
    error_head_lens[i] = (size_t)head;
    error_page_lens[i] = (size_t)(head + body);
    error_pages[i] = PyMem_Malloc(error_page_lens[i] + 1);
    if (error_pages[i] != NULL) {
      memcpy(error_pages[i], page, error_page_lens[i] + 1);
    }
  }
}

static PyMethodDef file_wrapper_def = {"file_wrapper", (PyCFunction)file_wrapper,
                                       METH_VARARGS, 0};

/* TEMPLATE[KEY] = VALUE (a new reference, consumed). */
static void template_set(PyObject *template, const char *key, PyObject *value) {
  if (value != NULL) {
    PyDict_SetItemString(template, key, value);
    Py_DECREF(value);
  }
}

void setup_static_env(char *name, int port) {
  PyObject *t;
  int i;

  empty_string = PyUnicode_FromString("");
  separator_string = PyUnicode_FromString(", ");
  server_protocol_key = PyUnicode_FromString("SERVER_PROTOCOL");
  protocol_10 = PyUnicode_FromString("HTTP/1.0");
  protocol_11 = PyUnicode_FromString("HTTP/1.1");
  path_info_key = PyUnicode_FromString("PATH_INFO");
  query_string_key = PyUnicode_FromString("QUERY_STRING");
  request_method_key = PyUnicode_FromString("REQUEST_METHOD");
  content_type_key = PyUnicode_FromString("CONTENT_TYPE");
  content_length_key = PyUnicode_FromString("CONTENT_LENGTH");
  remote_addr_key = PyUnicode_FromString("REMOTE_ADDR");
  remote_port_key = PyUnicode_FromString("REMOTE_PORT");
  client_key = PyUnicode_FromString("meinheld.client");
  for (i = 0; common_methods[i] != NULL; i++) {
    common_method_values[i] = PyUnicode_InternFromString(common_methods[i]);
  }
  for (i = 0; common_headers[i] != NULL; i++) {
    common_header_lens[i] = strlen(common_headers[i]);
    common_header_keys[i] =
        make_header_key(common_headers[i], common_header_lens[i]);
    PyUnicode_InternInPlace(&common_header_keys[i]);
  }
  make_error_pages();

  /* what every environ starts with (copied per request) */
  t = environ_template = PyDict_New();
  template_set(t, "wsgi.version", Py_BuildValue("(ii)", 1, 0));
  template_set(t, "wsgi.url_scheme", PyUnicode_FromString("http"));
  template_set(t, "wsgi.errors", Py_NewRef(PySys_GetObject("stderr")));
  template_set(t, "wsgi.multithread", PyBool_FromLong(pool_threads() > 1));
  template_set(t, "wsgi.multiprocess", Py_NewRef(Py_True));
  template_set(t, "wsgi.run_once", Py_NewRef(Py_False));
  /* https://gist.github.com/mitsuhiko/5721107 */
  template_set(t, "wsgi.input_terminated", Py_NewRef(Py_True));
  template_set(t, "wsgi.file_wrapper", PyCFunction_New(&file_wrapper_def, NULL));
  template_set(t, "SCRIPT_NAME", Py_NewRef(empty_string));
  template_set(t, "QUERY_STRING", Py_NewRef(empty_string));
  template_set(t, "SERVER_NAME", PyUnicode_FromString(name));
  template_set(t, "SERVER_PORT", PyUnicode_FromFormat("%d", port));
}

void clear_static_env(void) {
  int i;

  Py_CLEAR(environ_template);
  Py_CLEAR(empty_string);
  Py_CLEAR(separator_string);
  Py_CLEAR(server_protocol_key);
  Py_CLEAR(protocol_10);
  Py_CLEAR(protocol_11);
  Py_CLEAR(path_info_key);
  Py_CLEAR(query_string_key);
  Py_CLEAR(request_method_key);
  Py_CLEAR(content_type_key);
  Py_CLEAR(content_length_key);
  Py_CLEAR(remote_addr_key);
  Py_CLEAR(remote_port_key);
  Py_CLEAR(client_key);
  for (i = 0; common_methods[i] != NULL; i++) {
    Py_CLEAR(common_method_values[i]);
  }
  for (i = 0; common_headers[i] != NULL; i++) {
    Py_CLEAR(common_header_keys[i]);
  }
  for (i = 0; error_statuses[i].status; i++) {
    PyMem_Free(error_pages[i]);
    error_pages[i] = NULL;
  }
}
