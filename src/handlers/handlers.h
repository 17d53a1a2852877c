/* handlers: one entry point per route, grouped by resource file
 * (meta.c, ...). Each reads struct req, fills struct resp and returns the
 * HTTP status; none calls FastCGI. The route table in router.c wires them. */
#ifndef GUILD_HANDLERS_H
#define GUILD_HANDLERS_H

struct req;
struct resp;

/* meta.c: service information and health */
int meta_root(struct req *rq, struct resp *rs);
int meta_ping(struct req *rq, struct resp *rs);
int meta_missions(struct req *rq, struct resp *rs);
int meta_health(struct req *rq, struct resp *rs);

#endif
