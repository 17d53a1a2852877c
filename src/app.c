/* app: see app.h. */
#include "app.h"

#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "pwgate.h"
#include "ratelimit.h"
#include "redis_conn.h"
#include "sessions.h"

int app_process_open(struct config *cfg, const char *conf_file, char *err, size_t errsz)
{
    memset(cfg, 0, sizeof(*cfg));
    if (config_load(cfg, conf_file, CONFIG_NEED_JWT_SECRET, err, errsz) != 0)
        return -2;
    if (log_open(cfg->log_file) != 0) {
        snprintf(err, errsz, "cannot open log file %s", cfg->log_file);
        return -2;
    }
    log_set_request_mode(strcmp(cfg->request_log, "off") == 0    ? LOG_REQUESTS_OFF
                         : strcmp(cfg->request_log, "sync") == 0 ? LOG_REQUESTS_SYNC
                                                                 : LOG_REQUESTS_BUFFERED);
    if (db_library_init() != 0) {
        snprintf(err, errsz, "mysql_library_init failed");
        return -1;
    }
    if (metrics_open(cfg->metrics_file) != 0)
        log_msg(LOG_WARN, "metrics: cannot map the shared segment; /metrics will be empty");
    pwgate_init(); /* slots a killed predecessor held */
    cache_init();
    ratelimit_init();
    sessions_init();
    return 0;
}

void app_process_close(struct config *cfg)
{
    db_library_end();
    metrics_close();
    config_cleanup(cfg);
    log_close();
}

int app_open(struct app *app, const struct config *cfg)
{
    memset(app, 0, sizeof(*app));
    app->cfg = *cfg;
    arena_init(&app->arena, APP_ARENA_CAP);
    app->started_at = time(NULL);
    cache_thread_init();
    app->db = db_new(&app->cfg);
    app->cache_redis = redis_conn_new("cache", &app->cfg.cache_redis, &app->cfg);
    app->store_redis = redis_conn_new("store", &app->cfg.store_redis, &app->cfg);
    if (app->db == NULL || app->cache_redis == NULL || app->store_redis == NULL)
        return -1;
    redis_conn_on_connect(app->cache_redis, cache_check_primary, &app->cfg);
    return 0;
}

void app_close(struct app *app)
{
    if (app->cache_redis != NULL)
        cache_flush_metrics(app); /* latencies this worker still holds */
    db_free(app->db);
    redis_conn_free(app->cache_redis);
    redis_conn_free(app->store_redis);
    app->db = NULL;
    app->cache_redis = app->store_redis = NULL;
    db_thread_end();
    arena_cleanup(&app->arena);
    log_flush();
}
