/* fcgi_io: the only code that touches libfcgi's request I/O. Turns FastCGI
 * params + stdin into struct req, and struct resp into FastCGI stdout. */
#ifndef GUILD_FCGI_IO_H
#define GUILD_FCGI_IO_H

struct req;
struct resp;
struct arena;
struct FCGX_Request;

/* Fills rq from the FastCGI request (strings in arena a). Returns 0, or an
 * HTTP status (413 body too large, 400 unreadable body, 500 arena) having
 * filled rs accordingly. */
int fcgi_io_read(struct FCGX_Request *fr, struct arena *a, struct req *rq, struct resp *rs);

/* Writes rs as a CGI response (Status, headers, body). */
void fcgi_io_write(struct FCGX_Request *fr, const struct resp *rs);

#endif
