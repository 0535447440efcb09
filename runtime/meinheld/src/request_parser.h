/* The connection's side of the kit's request parser: bytes read from a client
   become queued requests, each with its WSGI environ and body (request_parser.c),
   parsed by h1.c. It replaces upstream meinheld's http_parser.c and
   http_request_parser.c. */
#ifndef REQUEST_PARSER_H
#define REQUEST_PARSER_H

#include "client.h"

/* Gives CLI a parser (from a free list). -1 when out of memory. */
int init_parser(client_t *cli);

/* Takes CLI's parser back. */
void dealloc_parser(client_t *cli);

/* Parses DATA[0..LEN) read from CLI: complete requests are queued on
   CLI->request_queue, the one still arriving is CLI->parsing_req. A refused
   request sets CLI->bad_request_code (and stops the parsing), an upgrade to a
   websocket sets CLI->upgrade. Returns the bytes consumed. */
size_t execute_parse(client_t *cli, const char *data, size_t len);

/* Logs, at info level, why CLI's request was refused (CLI->bad_request_code):
   one line with the status, the reason and the method, never request bytes. */
void log_rejection(client_t *cli);

/* The error logger object (server.set_error_logger): its info() method, if it
   has one, receives the rejection lines. NULL: none. */
void set_rejection_logger(PyObject *logger);

/* The whole response for an error STATUS (a complete HTTP message that closes
   the connection); *HEAD_LEN is the length of its head. */
const char *error_page(int status, size_t *len, size_t *head_len);

PyObject *new_environ(client_t *client);

void setup_static_env(char *name, int port);

void clear_static_env(void);

void parser_list_fill(void);

void parser_list_clear(void);

#endif
