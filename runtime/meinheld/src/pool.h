/* pool: the worker's threads sharing meinheld's loop (leader and followers).

   With server.set_threads(N), N > 1, the worker runs up to N threads besides its
   main thread. One of them at a time runs the loop (the leader): it accepts,
   reads, parses, and calls the app for a complete request itself, in its own
   greenlet, as meinheld always did. When that request is about to wait (a
   socket, a database, a sleep: server.will_block(), called by the kit's hooks),
   or has been in the app for a while (the monitor thread sees it: a C extension
   that waits with the GIL released, a lock, a long computation), the loop
   passes to an idle thread, or to a new one while there are fewer than N (the
   pool starts with one and grows as requests wait), which goes on serving
   everyone else; the waiting request finishes on its own thread, then that
   thread waits to lead again. A request never leaves its thread, so its
   thread-locals are its own while it runs.

   The main thread only watches: it runs Python's signal handlers (gunicorn's
   graceful stop) and the stop deadline. With N = 1 nothing of this exists: the
   main thread runs the loop, as upstream meinheld does.

   All loop state stays protected by the GIL; the pool's lock only says who
   leads. */
#ifndef POOL_H
#define POOL_H

#include "meinheld.h"

#define POOL_MAX_THREADS 256
#define POOL_MONITOR_MSEC 1 /* how often the monitor looks at the leader */

/* Sets the number of threads serving requests (1: no pool). 0, or -1 with a
   Python exception. */
int pool_set_threads(int threads);

/* The number of threads serving requests. */
int pool_threads(void);

/* Starts the first thread (each thread calls THREAD_MAIN with the GIL held,
   then ends) and the monitor. Called by the main thread with the GIL held. -1
   with a Python exception. */
int pool_start(void (*thread_main)(void));

/* The main thread: waits up to MSEC (the GIL released) for the end of the
   pool (pool_stop) or MSEC. */
void pool_watch(int msec);

/* Ends the pool: idle threads return from pool_wait_for_loop, the others once
   their request is done; waits up to MSEC for them all to end (GIL released).
   Threads still in a request then keep running: see pool_stopped. */
void pool_stop(int msec);

/* This thread's index in the pool, -1 outside it (the main thread). */
int pool_self(void);

/* True when no pool thread is left (they all ended in pool_stop). */
int pool_stopped(void);

/* True when this thread may run the loop: it leads, or there is no pool. */
int pool_leads(void);

/* Takes the loop if no thread leads: true when this thread leads. */
int pool_take_loop(void);

/* Waits, the GIL released, until this thread leads (true) or the pool stops
   (false). */
int pool_wait_for_loop(void);

/* The leader is about to wait: an idle thread takes the loop over. A no-op on
   a thread that does not lead. */
void pool_release_loop(void);

/* In the app's code: waits up to MSEC (-1: no limit) for FD to be readable
   (EVENTS POLLIN) or writable (POLLOUT), passing the loop on first if it must
   wait; the GIL is released meanwhile. 1: ready, 0: timed out, -1: errno. */
int pool_wait_fd(int fd, short events, int msec);

/* Adds server.set_threads, server.get_threads and server.will_block to the
   module. -1 with a Python exception. */
int pool_add_methods(PyObject *module);

/* This thread runs the app's code from now on (a request's greenlet). */
void pool_enter_app(void);

/* Back from the app's code: true when this thread still leads. */
int pool_leave_app(void);

#endif
