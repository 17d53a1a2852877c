/* server: one request from FastCGI in to FastCGI out: read, route, check
 * auth, run the handler, write, log one line. The only response path. */
#ifndef GUILD_SERVER_H
#define GUILD_SERVER_H

struct app;
struct req;
struct resp;
struct route;
struct FCGX_Request;

/* Serves one accepted request; never fails (errors become responses). */
void server_handle(struct app *app, struct FCGX_Request *fr);

/* Routes an already-parsed request and runs its handler; returns the status.
 * Separate from server_handle so tests can drive it without FastCGI. */
int server_dispatch(struct req *rq, struct resp *rs, const struct route **matched);

/* Schedules fn to run after the current response is sent (and the client
 * released); one task per request. */
void server_defer(struct app *app, void (*fn)(struct app *app));

/* Runs the deferred task, if any. Called by main after FCGX_Finish_r. */
void server_after_response(struct app *app);

#endif
