/* pool: the worker threads of one responder process. Each worker has its own
 * struct app (connections, arena) and FCGX_Request and serves one request at
 * a time. Kept-alive connections from nginx (fastcgi_keep_conn) are not tied
 * to a worker: between requests they wait in the process's epoll set, and
 * any idle worker takes the next one with a request (see pool.c and
 * docs/decisions.md). Stand-ins (GUILD_FCGI_STANDBY_THREADS) serve in the
 * place of workers that wait on another request's computation of a cache
 * entry. The calling thread handles the signals: SIGTERM, SIGINT or SIGUSR1
 * (multiwatch) let every request in flight finish, then the workers are
 * joined and pool_run returns; SIGUSR2 reopens the log file (rotation)
 * without stopping anything. */
#ifndef GUILD_POOL_H
#define GUILD_POOL_H

struct config;

/* Runs cfg->fcgi_threads workers (and cfg->fcgi_standby_threads stand-ins)
 * on the listening socket fd 0 until a stop
 * signal (or until no worker is left). FCGX_Init() must have succeeded.
 * Returns 0 after a clean stop, -1 if the workers could not be started. */
int pool_run(const struct config *cfg);

#endif
