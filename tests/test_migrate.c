/* test_migrate: migrate_split(), the SQL statement splitter (the part of
 * migrate.c that needs no database). Covers comments, blank lines, ';' at
 * line ends only, CRLF, a last statement without ';', and a callback that
 * stops the split. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "migrate.h"
#include "testutil.h"

#define MAX_STMTS 16

struct collected {
    char *stmts[MAX_STMTS];
    size_t n;
    size_t stop_at; /* return stop_rc when this many statements were seen; 0 = never */
    int stop_rc;
};

static int collect(const char *stmt, void *ctx)
{
    struct collected *c = ctx;

    CU_ASSERT_TRUE_FATAL(c->n < MAX_STMTS);
    c->stmts[c->n++] = strdup(stmt);
    if (c->stop_at != 0 && c->n == c->stop_at)
        return c->stop_rc;
    return 0;
}

static void release(struct collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->stmts[i]);
    memset(c, 0, sizeof(*c));
}

/* Splits a writable copy of sql. */
static int split(const char *sql, struct collected *c)
{
    char *copy = strdup(sql);
    int rc;

    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    rc = migrate_split(copy, collect, c);
    free(copy);
    return rc;
}

static void t_basic(void)
{
    struct collected c = {.n = 0};
    const char *sql = "-- 001_init.sql: the first schema\n"
                      "-- second comment line\n"
                      "\n"
                      "CREATE TABLE a (\n"
                      "  id INT NOT NULL\n"
                      ");\n"
                      "\n"
                      "\n"
                      "-- the second table\n"
                      "CREATE TABLE b (x INT);\n"
                      "\n";

    CU_ASSERT_EQUAL(split(sql, &c), 0);
    CU_ASSERT_EQUAL_FATAL(c.n, 2);
    CU_ASSERT_STRING_EQUAL(c.stmts[0], "CREATE TABLE a (\n  id INT NOT NULL\n)");
    CU_ASSERT_STRING_EQUAL(c.stmts[1], "CREATE TABLE b (x INT)");
    release(&c);
}

static void t_last_without_semicolon(void)
{
    struct collected c = {.n = 0};

    CU_ASSERT_EQUAL(split("CREATE TABLE a (x INT);\nINSERT INTO a VALUES (1)", &c), 0);
    CU_ASSERT_EQUAL_FATAL(c.n, 2);
    CU_ASSERT_STRING_EQUAL(c.stmts[0], "CREATE TABLE a (x INT)");
    CU_ASSERT_STRING_EQUAL(c.stmts[1], "INSERT INTO a VALUES (1)");
    release(&c);

    /* ';' at the very end of the text, no newline */
    CU_ASSERT_EQUAL(split("SELECT 1;", &c), 0);
    CU_ASSERT_EQUAL_FATAL(c.n, 1);
    CU_ASSERT_STRING_EQUAL(c.stmts[0], "SELECT 1");
    release(&c);

    /* trailing blanks after the last statement */
    CU_ASSERT_EQUAL(split("  SELECT 2  \n\n  ", &c), 0);
    CU_ASSERT_EQUAL_FATAL(c.n, 1);
    CU_ASSERT_STRING_EQUAL(c.stmts[0], "SELECT 2");
    release(&c);
}

static void t_semicolon_inside_line(void)
{
    struct collected c = {.n = 0};
    const char *sql = "INSERT INTO t (s) VALUES ('a;b'), ('c; d');\n"
                      "UPDATE t SET s = ';' WHERE s = 'x;';\n";

    CU_ASSERT_EQUAL(split(sql, &c), 0);
    CU_ASSERT_EQUAL_FATAL(c.n, 2);
    CU_ASSERT_STRING_EQUAL(c.stmts[0], "INSERT INTO t (s) VALUES ('a;b'), ('c; d')");
    CU_ASSERT_STRING_EQUAL(c.stmts[1], "UPDATE t SET s = ';' WHERE s = 'x;'");
    release(&c);

    /* a ';' inside a line joins the two halves into one statement */
    CU_ASSERT_EQUAL(split("SELECT 1; SELECT 2;\n", &c), 0);
    CU_ASSERT_EQUAL_FATAL(c.n, 1);
    CU_ASSERT_STRING_EQUAL(c.stmts[0], "SELECT 1; SELECT 2");
    release(&c);
}

static void t_crlf(void)
{
    struct collected c = {.n = 0};

    CU_ASSERT_EQUAL(split("-- windows\r\nCREATE TABLE a (x INT);\r\n\r\nCREATE TABLE b (y INT);\r\n",
                          &c),
                    0);
    CU_ASSERT_EQUAL_FATAL(c.n, 2);
    CU_ASSERT_STRING_EQUAL(c.stmts[0], "CREATE TABLE a (x INT)");
    CU_ASSERT_STRING_EQUAL(c.stmts[1], "CREATE TABLE b (y INT)");
    release(&c);
}

static void t_nothing_to_run(void)
{
    struct collected c = {.n = 0};

    CU_ASSERT_EQUAL(split("", &c), 0);
    CU_ASSERT_EQUAL(c.n, 0);
    CU_ASSERT_EQUAL(split("\n\n   \n", &c), 0);
    CU_ASSERT_EQUAL(c.n, 0);
    CU_ASSERT_EQUAL(split("-- only a comment\n-- and another", &c), 0);
    CU_ASSERT_EQUAL(c.n, 0);
    CU_ASSERT_EQUAL(split(";\n;\n  ;\n", &c), 0); /* empty statements are skipped */
    CU_ASSERT_EQUAL(c.n, 0);
    release(&c);
}

static void t_comments(void)
{
    struct collected c = {.n = 0};
    /* a comment inside a statement stays (the server ignores it); a comment
     * line ending in ';' is not a statement of its own */
    const char *sql = "-- drop nothing;\n"
                      "CREATE TABLE a (\n"
                      "  id INT -- the key\n"
                      ");\n"
                      "-- trailing comment\n";

    CU_ASSERT_EQUAL(split(sql, &c), 0);
    CU_ASSERT_EQUAL_FATAL(c.n, 1);
    CU_ASSERT_STRING_EQUAL(c.stmts[0], "CREATE TABLE a (\n  id INT -- the key\n)");
    release(&c);
}

static void t_callback_stops(void)
{
    struct collected c = {.n = 0};
    const char *sql = "A;\nB;\nC;\n";

    c.stop_at = 2;
    c.stop_rc = -7;
    CU_ASSERT_EQUAL(split(sql, &c), -7);
    CU_ASSERT_EQUAL_FATAL(c.n, 2); /* C never ran */
    CU_ASSERT_STRING_EQUAL(c.stmts[0], "A");
    CU_ASSERT_STRING_EQUAL(c.stmts[1], "B");
    release(&c);

    c.stop_at = 1;
    c.stop_rc = 3; /* any non-zero value is passed through */
    CU_ASSERT_EQUAL(split(sql, &c), 3);
    CU_ASSERT_EQUAL(c.n, 1);
    release(&c);

    c.stop_at = 3; /* stopping on the last one still returns its value */
    c.stop_rc = -1;
    CU_ASSERT_EQUAL(split(sql, &c), -1);
    CU_ASSERT_EQUAL(c.n, 3);
    release(&c);
}

/* "CREATE ...;" followed by blanks before the newline: the ';' still ends
 * the line, so two statements must not reach the server as one. */
static void t_semicolon_before_trailing_blanks(void)
{
    struct collected c = {.n = 0};

    CU_ASSERT_EQUAL(split("CREATE TABLE a (x INT);  \nCREATE TABLE b (y INT);\t\n", &c), 0);
    CU_ASSERT_EQUAL(c.n, 2);
    if (c.n == 2) {
        CU_ASSERT_STRING_EQUAL(c.stmts[0], "CREATE TABLE a (x INT)");
        CU_ASSERT_STRING_EQUAL(c.stmts[1], "CREATE TABLE b (y INT)");
    }
    release(&c);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"basic", t_basic},
        {"last_without_semicolon", t_last_without_semicolon},
        {"semicolon_inside_line", t_semicolon_inside_line},
        {"crlf", t_crlf},
        {"nothing_to_run", t_nothing_to_run},
        {"comments", t_comments},
        {"callback_stops", t_callback_stops},
        {"semicolon_before_trailing_blanks", t_semicolon_before_trailing_blanks},
        {NULL, NULL},
    };
    return testutil_run("migrate", cases, NULL, NULL);
}
