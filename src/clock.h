/* clock: the monotonic clock in milliseconds, for timeouts, reconnect
 * spacing and latency measurements (never for timestamps shown to users). */
#ifndef GUILD_CLOCK_H
#define GUILD_CLOCK_H

/* Milliseconds since an arbitrary fixed point, with sub-ms precision. */
double clock_ms(void);

#endif
