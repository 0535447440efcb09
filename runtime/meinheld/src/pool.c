/* pool: the worker's threads sharing meinheld's loop; see pool.h. */
#include "pool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>

typedef struct {
  int index;
  pthread_cond_t wake; /* signalled when the loop is free for it */
  int idle;            /* waiting in pool_wait_for_loop */
  int in_app;          /* running the app's code (read by the monitor) */
  unsigned app_calls;  /* times it entered the app's code */
} pool_thread;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended = PTHREAD_COND_INITIALIZER; /* a thread ended */
static pthread_cond_t watching = PTHREAD_COND_INITIALIZER; /* pool_watch */
static pool_thread threads[POOL_MAX_THREADS];
static int configured = 1; /* pool_set_threads: the most threads */
static int started;        /* threads started in this run (threads[0..started)) */
static int alive;          /* threads started and not ended */
static int leader = -1;    /* the thread running the loop, -1: none */
static int stopping;
static pthread_t monitor;
static int monitor_started;
static void (*serve)(void);

/* This thread's entry, or NULL: the main thread, or no pool. */
static __thread pool_thread *self;

int pool_set_threads(int n) {
  if (n < 1 || n > POOL_MAX_THREADS) {
    PyErr_Format(PyExc_ValueError, "threads must be between 1 and %d",
                 POOL_MAX_THREADS);
    return -1;
  }
  if (alive) {
    PyErr_SetString(PyExc_RuntimeError, "the server is running");
    return -1;
  }
  configured = n;
  return 0;
}

int pool_threads(void) { return configured; }

int pool_self(void) { return self ? self->index : -1; }

int pool_stopped(void) {
  int left;
  pthread_mutex_lock(&lock);
  left = alive;
  pthread_mutex_unlock(&lock);
  return left == 0;
}

static void *thread_main(void *arg);

/* Starts one more thread, if the pool may grow (the lock held). 0, or an
   errno. */
static int start_thread(void) {
  pthread_attr_t attr;
  pthread_t thread;
  pool_thread *t = &threads[started];
  int err;

  if (started >= configured || stopping) {
    return EAGAIN;
  }
  t->index = started;
  t->idle = t->in_app = 0;
  t->app_calls = 0;
  pthread_cond_init(&t->wake, NULL);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  err = pthread_create(&thread, &attr, thread_main, t);
  pthread_attr_destroy(&attr);
  if (err == 0) {
    started++;
    alive++;
  }
  return err;
}

/* The loop is free: an idle thread takes it, or a new one if none is idle
   and the pool may grow (the lock held). False when neither. */
static int pass_loop_on(void) {
  int i;
  for (i = 0; i < started; i++) {
    if (threads[i].idle) {
      pthread_cond_signal(&threads[i].wake);
      return 1;
    }
  }
  return start_thread() == 0;
}

int pool_leads(void) {
  return self == NULL || __atomic_load_n(&leader, __ATOMIC_RELAXED) ==
                             self->index;
}

int pool_take_loop(void) {
  int mine;
  if (self == NULL) {
    return 1;
  }
  pthread_mutex_lock(&lock);
  if (leader == -1 && !stopping) {
    __atomic_store_n(&leader, self->index, __ATOMIC_RELAXED);
  }
  mine = leader == self->index;
  pthread_mutex_unlock(&lock);
  return mine;
}

int pool_wait_for_loop(void) {
  int mine;
  Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&lock);
  self->idle = 1;
  while (leader != -1 && !stopping) {
    pthread_cond_wait(&self->wake, &lock);
  }
  self->idle = 0;
  if (leader == -1 && !stopping) {
    __atomic_store_n(&leader, self->index, __ATOMIC_RELAXED);
  }
  mine = leader == self->index;
  pthread_mutex_unlock(&lock);
  Py_END_ALLOW_THREADS return mine;
}

void pool_release_loop(void) {
  if (self == NULL || !pool_leads()) {
    return;
  }
  pthread_mutex_lock(&lock);
  if (leader == self->index) {
    /* with no thread to take it, the first to finish its request will */
    __atomic_store_n(&leader, -1, __ATOMIC_RELAXED);
    pass_loop_on();
  }
  pthread_mutex_unlock(&lock);
}

void pool_enter_app(void) {
  if (self != NULL) {
    __atomic_store_n(&self->app_calls, self->app_calls + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&self->in_app, 1, __ATOMIC_RELAXED);
  }
}

int pool_leave_app(void) {
  int mine;
  if (self == NULL) {
    return 1;
  }
  /* under the lock: the monitor hands the loop over only while in_app */
  pthread_mutex_lock(&lock);
  __atomic_store_n(&self->in_app, 0, __ATOMIC_RELAXED);
  mine = leader == self->index;
  pthread_mutex_unlock(&lock);
  return mine;
}

/* The monitor: a leader that stays in the app's code for a whole period
   (the same call seen twice) gives the loop to an idle or a new thread. No
   Python. */
static void *monitor_main(void *arg) {
  struct timespec period = {0, POOL_MONITOR_MSEC * 1000000L};
  int seen = -1;
  unsigned seen_calls = 0;

  (void)arg;
  for (;;) {
    nanosleep(&period, NULL);
    pthread_mutex_lock(&lock);
    if (stopping) {
      pthread_mutex_unlock(&lock);
      return NULL;
    }
    if (leader >= 0 && threads[leader].in_app) {
      if (leader == seen && threads[leader].app_calls == seen_calls) {
        int was = leader;
        __atomic_store_n(&leader, -1, __ATOMIC_RELAXED);
        if (pass_loop_on()) {
          seen = -1;
        } else {
          __atomic_store_n(&leader, was, __ATOMIC_RELAXED); /* no one else */
        }
      } else {
        seen = leader;
        seen_calls = threads[leader].app_calls;
      }
    } else {
      seen = -1;
    }
    pthread_mutex_unlock(&lock);
  }
}

static void *thread_main(void *arg) {
  PyGILState_STATE gil = PyGILState_Ensure();

  self = (pool_thread *)arg;
  serve();
  self = NULL;
  PyGILState_Release(gil);
  pthread_mutex_lock(&lock);
  alive--;
  pthread_cond_broadcast(&ended);
  pthread_mutex_unlock(&lock);
  return NULL;
}

int pool_start(void (*thread_main_fn)(void)) {
  int err;

  if (!pool_stopped()) {
    PyErr_SetString(PyExc_RuntimeError, "threads of an earlier run() remain");
    return -1;
  }
  serve = thread_main_fn;
  stopping = 0;
  leader = -1;
  started = 0;
  /* one thread to begin with; more as requests wait (pass_loop_on) */
  pthread_mutex_lock(&lock);
  err = start_thread();
  pthread_mutex_unlock(&lock);
  if (!err) {
    err = pthread_create(&monitor, NULL, monitor_main, NULL);
    monitor_started = !err;
  }
  if (err) {
    errno = err;
    PyErr_SetFromErrno(PyExc_OSError);
    return -1;
  }
  return 0;
}

void pool_watch(int msec) {
  struct timespec deadline;

  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += (long)msec * 1000000L;
  deadline.tv_sec += deadline.tv_nsec / 1000000000L;
  deadline.tv_nsec %= 1000000000L;
  Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&lock);
  if (!stopping) {
    pthread_cond_timedwait(&watching, &lock, &deadline);
  }
  pthread_mutex_unlock(&lock);
  Py_END_ALLOW_THREADS
}

void pool_stop(int msec) {
  struct timespec deadline;
  int i, err = 0;

  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += msec / 1000;
  deadline.tv_nsec += (long)(msec % 1000) * 1000000L;
  deadline.tv_sec += deadline.tv_nsec / 1000000000L;
  deadline.tv_nsec %= 1000000000L;
  Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&lock);
  stopping = 1;
  pthread_cond_broadcast(&watching);
  for (i = 0; i < started; i++) {
    pthread_cond_signal(&threads[i].wake);
  }
  while (alive > 0 && err != ETIMEDOUT) {
    err = pthread_cond_timedwait(&ended, &lock, &deadline);
  }
  pthread_mutex_unlock(&lock);
  if (monitor_started) {
    pthread_join(monitor, NULL);
    monitor_started = 0;
  }
  Py_END_ALLOW_THREADS
}

int pool_wait_fd(int fd, short events, int msec) {
  struct pollfd p = {fd, events, 0};
  int ret;

  ret = poll(&p, 1, 0);
  if (ret != 0) {
    return ret < 0 ? -1 : 1;
  }
  pool_release_loop();
  Py_BEGIN_ALLOW_THREADS do {
    ret = poll(&p, 1, msec); /* a signal for the main thread may land here */
  } while (ret < 0 && errno == EINTR);
  Py_END_ALLOW_THREADS return ret < 0 ? -1 : ret;
}

static PyObject *py_set_threads(PyObject *module, PyObject *arg) {
  int n = PyLong_AsLong(arg);
  if ((n == -1 && PyErr_Occurred()) || pool_set_threads(n) < 0) {
    return NULL;
  }
  Py_RETURN_NONE;
}

static PyObject *py_get_threads(PyObject *module, PyObject *unused) {
  return PyLong_FromLong(configured);
}

/* will_block(fileno=-1, write=False): what the kit's hooks call before a
   call that may wait. */
static PyObject *py_will_block(PyObject *module, PyObject *const *args,
                               Py_ssize_t nargs) {
  int fd = -1, write = 0;

  if (self == NULL || !pool_leads()) {
    Py_RETURN_NONE; /* fast: nothing to hand over */
  }
  if (nargs > 2) {
    PyErr_SetString(PyExc_TypeError, "will_block(fileno=-1, write=False)");
    return NULL;
  }
  if (nargs > 0) {
    fd = PyLong_AsLong(args[0]);
    if (fd == -1 && PyErr_Occurred()) {
      return NULL;
    }
  }
  if (nargs > 1 && (write = PyObject_IsTrue(args[1])) < 0) {
    return NULL;
  }
  if (fd >= 0) {
    struct pollfd p = {fd, write ? POLLOUT : POLLIN, 0};
    if (poll(&p, 1, 0) > 0) {
      Py_RETURN_NONE; /* ready: it will not wait */
    }
  }
  pool_release_loop();
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"set_threads", (PyCFunction)py_set_threads, METH_O,
     "set_threads(n): threads serving requests in this worker (1: the "
     "loop's own thread only, as meinheld always did)"},
    {"get_threads", (PyCFunction)py_get_threads, METH_NOARGS,
     "return the number of threads serving requests"},
    {"will_block", (PyCFunction)(void (*)(void))py_will_block, METH_FASTCALL,
     "will_block(fileno=-1, write=False): the calling request is about to "
     "wait (for fileno to be readable, or writable, if given and not ready "
     "yet): if its thread runs the loop, another thread takes it over"},
    {NULL, NULL, 0, NULL},
};

int pool_add_methods(PyObject *module) {
  return PyModule_AddFunctions(module, methods);
}
