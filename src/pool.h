/* pool: the worker threads of one responder process. Each worker has its own
 * struct app (connections, arena) and FCGX_Request and serves one request at
 * a time; with nginx's fastcgi_keep_conn a worker keeps serving the requests
 * of one upstream connection, so a process needs more workers than the idle
 * connections nginx may keep open to it (see docs/decisions.md).
 * The calling thread handles the stop signals: SIGTERM, SIGINT or SIGUSR1
 * (multiwatch) let every request in flight finish, close idle kept-alive
 * connections, join the workers and return. */
#ifndef GUILD_POOL_H
#define GUILD_POOL_H

struct config;

/* Runs cfg->fcgi_threads workers on the listening socket fd 0 until a stop
 * signal (or until no worker is left). FCGX_Init() must have succeeded.
 * Returns 0 after a clean stop, -1 if the workers could not be started. */
int pool_run(const struct config *cfg);

#endif
