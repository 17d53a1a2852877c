#!/usr/bin/env python3
"""fuzz/seeds.py: writes the seed corpora (fuzz/corpus/<harness>/) and the
dictionaries (fuzz/dict/<harness>.dict) of the libFuzzer harnesses.

The outputs are committed; run this again after changing a harness's input
format or the token claims (the JWT seeds are signed with the fuzz worker's
public key, FUZZ_JWT_SECRET in fuzz/fuzz_app.h). Seeds are small and each one
means something: a valid request, or a known nasty case (NUL bytes, duplicate
parameters, huge numbers, invalid UTF-8, forged tokens...). libFuzzer grows
its own corpus from them in var/fuzz/corpus/, which is not committed.
"""
import base64
import hashlib
import hmac
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"fuzz-only-secret-never-deployed-0123456789abcdef"  # = FUZZ_JWT_SECRET
FAR = 4102444800  # 2100-01-01: the valid seeds stay valid
JTI = "0123456789abcdef0123456789abcdef"
UUID = "123e4567-e89b-42d3-a456-426614174000"


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(header, claims, key=SECRET, alg="sha256", sign=True):
    h = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    c = claims if isinstance(claims, bytes) else json.dumps(claims, separators=(",", ":")).encode()
    signing = b64(h) + "." + b64(c)
    if not sign:
        return signing + "."
    mac = hmac.new(key, signing.encode(), getattr(hashlib, alg)).digest()
    return signing + "." + b64(mac)


CLAIMS = {"sub": "alice", "uid": 1, "iat": 1700000000, "exp": FAR, "jti": JTI}
HS256 = {"alg": "HS256", "typ": "JWT"}
VALID = token(HS256, CLAIMS)

# ---- seeds: harness -> {name: bytes} ----
S = {}

S["fuzz_query"] = {
    "users-page": b"skip=0&limit=100&min_experience=500&guild_rank=Expert",
    "leaderboard-limit": b"limit=10",
    "duplicate-limit": b"limit=1&limit=500",
    "nul-in-limit": b"limit=3%00zz",
    "nul-before-excess-rank": b"guild_rank=%00AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "huge-limit": b"limit=99999999999999999999999999",
    "below-int64": b"min_experience=-9223372036854775809",
    "int64-max-skip": b"skip=9223372036854775807",
    "negative-skip": b"skip=-1&limit=0",
    "score-decimal": b"score=85.5",
    "score-overflow": b"score=1e999",
    "score-nan": b"score=nan",
    "score-hex": b"score=0x10",
    "score-space": b"score=%2085",
    "invalid-utf8": b"guild_rank=%ff%fe&limit=%c0%80",
    "raw-invalid-utf8": b"guild_rank=\xff\xfe",
    "bad-escape": b"limit=%zz",
    "truncated-escape": b"limit=%4",
    "empty-pairs": b"a=1&&&b=2&=&c",
    "plus-space": b"limit=1+2&guild_rank=Master+",
    "utf8-rank": b"guild_rank=Expert%C3%A9",
}

S["fuzz_login_form"] = {
    "valid": b"username=alice&password=secret123",
    "nul-in-username": b"username=admin%00junk&password=x",
    "nul-in-password": b"username=alice&password=secret123%00junk",
    "duplicate-username": b"username=alice&username=bob&password=p",
    "empty-fields": b"username=&password=",
    "password-only": b"password=only",
    "trailing-spaces": b"username=victim%20%20%20&password=x",
    "plus-and-encoded-plus": b"username=a+b&password=c%2Bd",
    "bad-escapes": b"username=%&password=%G1",
    "decoded-invalid-utf8": b"username=%ff&password=%fe",
    "raw-invalid-utf8": b"username=\xff\xfe&password=x",
    "long-username": b"username=" + b"a" * 300 + b"&password=x",
    "nul-raw": b"username=al\x00ice&password=x",
}

S["fuzz_login_json"] = {
    "valid": b'{"username":"alice","password":"secret123"}',
    "nul-escape": b'{"username":"admin\\u0000junk","password":"x"}',
    "wrong-types": b'{"username":1,"password":true}',
    "missing-password": b'{"username":"alice"}',
    "duplicate-key": b'{"username":"alice","password":"x","username":"bob"}',
    "lone-surrogate": b'{"username":"\\ud800","password":"x"}',
    "raw-invalid-utf8": b'{"username":"\xff","password":"x"}',
    "array": b"[]",
    "number": b"42",
    "null": b"null",
    "deep": b'{"a":' * 40 + b"1" + b"}" * 40,
    "trailing-garbage": b'{"username":"x","password":"y"}}',
    "long-password": b'{"username":"alice","password":"' + b"p" * 2000 + b'"}',
    "trailing-spaces": b'{"username":"victim   ","password":"x"}',
}

REG = {"username": "alice", "email": "alice@example.com", "password": "password123",
       "full_name": "Alice A"}


def reg(**kw):
    d = dict(REG)
    for k, v in kw.items():
        if v is KeyError:
            d.pop(k, None)
        else:
            d[k] = v
    return json.dumps(d).encode()


S["fuzz_register"] = {
    "valid": reg(),
    "full-name-null": reg(full_name=None),
    "too-short": reg(username="ab", password="short"),
    "email-no-tld": reg(email="a@b"),
    "email-double-dot": reg(email="a..b@example.com"),
    "email-no-local": reg(email="@example.com"),
    "email-hyphen-label": reg(email="a@-example.com"),
    "email-short-tld": reg(email="a@example.c"),
    "email-unicode": reg(email="\u00e9@ex\u00e4mple.com"),
    "email-long": reg(email="a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com"),
    "control-username": reg(username="ali\u0007ce"),
    "c1-control-username": reg(username="ali\u0085ce"),
    "nul-username": reg(username="ali\u0000ce"),
    "astral-username": reg(username="\U0001F600\U0001F600\U0001F600"),
    "username-51": reg(username="u" * 51),
    "number-fields": b'{"username":1e400,"email":-0,"password":9223372036854775808}',
    "missing-all": b"{}",
    "not-object": b'["alice","alice@example.com"]',
}

S["fuzz_user_update"] = {
    "self-email": b'\x00{"email":"new@example.com"}',
    "self-full-name-null": b'\x00{"full_name":null}',
    "self-password": b'\x00{"password":"newpassword1"}',
    "self-admin-field": b'\x00{"is_admin":true}',
    "other-user": b'\x02{"email":"x@example.com"}',
    "admin-all": (b'\x01{"guild_rank":"Master","experience_points":1000000000000,'
                  b'"missions_completed":13,"is_active":false,"is_admin":true}'),
    "admin-xp-float": b'\x01{"experience_points":1e12}',
    "admin-xp-string": b'\x01{"experience_points":"3"}',
    "admin-xp-half": b'\x01{"experience_points":1.5}',
    "admin-xp-huge": b'\x01{"experience_points":99999999999999999999}',
    "admin-xp-near-int64": b'\x01{"experience_points":9.3e18}',
    "admin-xp-bool": b'\x01{"experience_points":true}',
    "admin-missions-string": b'\x01{"missions_completed":"13"}',
    "admin-rank-case": b'\x01{"guild_rank":"master"}',
    "admin-active-string": b'\x01{"is_active":"true"}',
    "empty": b"\x00{}",
    "nul-email": b'\x00{"email":"a\\u0000@example.com"}',
}

S["fuzz_mission_start"] = {
    "valid": b'{"mission_id":1}',
    "named": b'{"mission_id":13,"mission_name":"Slay the dragon"}',
    "id-string": b'{"mission_id":"3"}',
    "id-float-integral": b'{"mission_id":3.0}',
    "id-zero": b'{"mission_id":0}',
    "id-14": b'{"mission_id":14}',
    "id-negative": b'{"mission_id":-1}',
    "id-half": b'{"mission_id":1.5}',
    "id-half-string": b'{"mission_id":"1.5"}',
    "id-bool": b'{"mission_id":true}',
    "id-null": b'{"mission_id":null}',
    "id-overflow": b'{"mission_id":1e400}',
    "id-int64-plus-one": b'{"mission_id":9223372036854775808}',
    "name-null": b'{"mission_id":1,"mission_name":null}',
    "name-nul": b'{"mission_id":1,"mission_name":"a\\u0000b"}',
    "name-empty": b'{"mission_id":1,"mission_name":""}',
    "name-control": b'{"mission_id":1,"mission_name":"a\\u001bb"}',
}

S["fuzz_session_create"] = {
    "cart": b'{"cart":[1,2,3],"theme":"dark"}',
    "empty": b"{}",
    "override-server-fields": b'{"user_id":999,"created_at":"x"}',
    "nested": b'{"a":{"b":{"c":[]}}}',
    "big-numbers": b'{"n":1e308,"m":-0.0,"o":1E400,"p":123456789012345678901234567890}',
    "astral": b'{"s":"\\ud83d\\ude00"}',
    "over-8k": b'{"blob":"' + b"x" * 8200 + b'"}',
    "not-object": b"[1,2]",
}

S["fuzz_json"] = {
    "object": b'application/json\n{"a":1}',
    "charset": b'application/json; charset=utf-8\n{"a":[1,2.5,"x",true,null]}',
    "text-plain": b'text/plain\n{"a":1}',
    "upper-case-type": b"APPLICATION/JSON\n{}",
    "type-prefix-only": b"application/jsonx\n{}",
    "nul-escape": b'application/json\n{"a":"\\u0000"}',
    "overflow": b'application/json\n{"a":1e400}',
    "deep": b"application/json\n" + b"[" * 40 + b"]" * 40,
    "lone-surrogate": b'application/json\n{"a":"\\ud800"}',
    "single-quotes": b"application/json\n{'a':1}",
    "nan": b'application/json\n{"a":NaN}',
    "bom": b"application/json\n\xef\xbb\xbf{}",
    "bare-number": b"application/json\n42",
    "raw-nul": b'application/json\n{"a":"x\x00y"}',
}

S["fuzz_router"] = {
    "user": b"GET\n/api/users/1",
    "me-trailing-slash": b"GET\n/api/users/me/",
    "update": b"PUT\n/api/users/42",
    "complete": b"POST\n/api/users/1/missions/3/complete?score=90",
    "id-not-int": b"GET\n/api/users/abc",
    "id-zero": b"GET\n/api/users/0",
    "id-negative": b"GET\n/api/users/-1",
    "id-huge": b"GET\n/api/users/99999999999999999999",
    "id-encoded": b"GET\n/api/users/%31",
    "id-encoded-slash": b"GET\n/api/users/1%2F2",
    "double-slash": b"GET\n/api/users//1",
    "metrics-dot": b"GET\n/metrics/.",
    "metrics-slashes": b"GET\n/metrics//",
    "wrong-method": b"PATCH\n/api/users/1",
    "dot-dot": b"GET\n/api/../api/users",
    "document-uri": b"GET\n/api/users/1\n/api/users/1",
    "nul": b"GET\n/%00",
    "session": b"DELETE\n/api/sessions/" + UUID.encode(),
    "empty-uri": b"GET\n",
    "query-only": b"GET\n?x=1",
    "bad-escape": b"GET\n/api/users/%zz",
}

# JWT: first byte even = the header value as sent; odd = header \n payload to sign
S["fuzz_jwt"] = {
    "valid": b"\x00Bearer " + VALID.encode(),
    "lowercase-scheme-spaces": b"\x00  bearer   " + VALID.encode(),
    "alg-none": b"\x00Bearer " + token({"alg": "none", "typ": "JWT"}, CLAIMS, sign=False).encode(),
    "hs512-same-key": b"\x00Bearer " + token({"alg": "HS512", "typ": "JWT"}, CLAIMS,
                                             alg="sha512").encode(),
    "wrong-key": b"\x00Bearer " + token(HS256, CLAIMS, key=b"another-secret-another-secret-0123").encode(),
    "expired": b"\x00Bearer " + token(HS256, dict(CLAIMS, exp=1700000100)).encode(),
    "uid-zero": b"\x00Bearer " + token(HS256, dict(CLAIMS, uid=0)).encode(),
    "no-jti": b"\x00Bearer " + token(HS256, {k: v for k, v in CLAIMS.items() if k != "jti"}).encode(),
    "trailing-byte": b"\x00Bearer " + VALID.encode() + b"x",
    "basic": b"\x00Basic dXNlcjpwYXNz",
    "garbage-parts": b"\x00Bearer a.b.c",
    "dots": b"\x00Bearer ...",
    "empty-token": b"\x00Bearer ",
    "signed-valid": b"\x01" + json.dumps(HS256).encode() + b"\n" + json.dumps(CLAIMS).encode(),
    "signed-alg-none": b'\x01{"alg":"none"}\n' + json.dumps(CLAIMS).encode(),
    "signed-hs512-header": b'\x01{"alg":"HS512","typ":"JWT"}\n' + json.dumps(CLAIMS).encode(),
    "signed-exp-string": b"\x01" + json.dumps(HS256).encode() + b"\n" + json.dumps(
        dict(CLAIMS, exp=str(FAR))).encode(),
    "signed-uid-huge": b"\x01" + json.dumps(HS256).encode() + b"\n" + json.dumps(
        dict(CLAIMS, uid=10 ** 30)).encode(),
    "signed-uid-negative": b"\x01" + json.dumps(HS256).encode() + b"\n" + json.dumps(
        dict(CLAIMS, uid=-5)).encode(),
    "signed-long-sub": b"\x01" + json.dumps(HS256).encode() + b"\n" + json.dumps(
        dict(CLAIMS, sub="s" * 300)).encode(),
    "signed-long-jti": b"\x01" + json.dumps(HS256).encode() + b"\n" + json.dumps(
        dict(CLAIMS, jti="j" * 40)).encode(),
    "signed-nested-claims": b"\x01" + json.dumps(HS256).encode() + b'\n{"sub":{"a":1},"uid":[1]}',
    "signed-not-json": b"\x01{alg:HS256}\nnot json",
}

S["fuzz_session_id"] = {
    "valid": UUID.encode(),
    "upper-case": UUID.upper().encode(),
    "version-1": b"123e4567-e89b-12d3-a456-426614174000",
    "bad-variant": b"123e4567-e89b-42d3-c456-426614174000",
    "no-dashes": b"123e4567e89b42d3a456426614174000",
    "35-chars": UUID[:-1].encode(),
    "37-chars": UUID.encode() + b"0",
    "traversal": b"../../etc/passwd",
    "encoded-nul": b"%00",
    "extra-segment": UUID.encode() + b"/extra",
    "trailing-slash": UUID.encode() + b"/",
    "x": b"x",
}

S["fuzz_cache_clear"] = {
    "family": b"pattern=user:*",
    "all": b"pattern=*",
    "absent": b"",
    "empty": b"pattern=",
    "nul-then-star": b"pattern=x%00*",
    "crlf": b"pattern=%0d%0aFLUSHALL",
    "glob-classes": b"pattern=[a-z]*%5C",
    "too-long": b"pattern=" + b"a" * 257,
    "c1-control": b"pattern=%C2%85",
    "duplicate": b"pattern=a&pattern=b",
    "invalid-utf8": b"pattern=%ff",
    "bad-escape": b"pattern=%",
}

ETAG = b'"0123456789abcdef0123456789abcdef"'
S["fuzz_if_none_match"] = {
    "exact": ETAG,
    "weak": b"W/" + ETAG,
    "star": b"*",
    "list": b'"a", "b", W/' + ETAG,
    "unterminated": b'"unterminated',
    "separators-only": b",,,  ,\t",
    "weak-prefix-only": b"W/",
    "empty-tag": b'""',
    "unquoted": b"0123456789abcdef0123456789abcdef",
}

S["fuzz_xff"] = {
    "trusted-peer": b"127.0.0.1\n203.0.113.7",
    "two-hops": b"127.0.0.1\n203.0.113.7, 10.0.0.2",
    "untrusted-peer": b"198.51.100.9\n203.0.113.7",
    "ipv6": b"::1\n2001:db8::5, 2001:db9::1",
    "garbage-hop": b"127.0.0.1\ngarbage, 203.0.113.7",
    "empty-hops": b"127.0.0.1\n  ,  , ",
    "mapped-v4": b"127.0.0.1\n::ffff:10.0.0.1",
    "cidr-in-header": b"127.0.0.1\n1.2.3.4/8",
    "long-hop": b"10.1.2.3\n" + b"1" * 70,
    "no-peer": b"\n1.2.3.4",
    "port": b"127.0.0.1\n1.2.3.4:8080",
    "zone": b"127.0.0.1\nfe80::1%eth0",
    "all-trusted": b"127.0.0.1\n10.0.0.1, 10.0.0.2",
}


def req(method=b"GET", uri=b"/ping", ctype=b"", clen=b"", auth=b"", xff=b"", inm=b"",
        remote=b"127.0.0.1", body=b""):
    return b"\n".join([method, uri, ctype, clen, auth, xff, inm, remote, body])


BEARER = b"Bearer " + VALID.encode()
S["fuzz_request"] = {
    "ping": req(),
    "users-page": req(uri=b"/api/users?limit=5&skip=0"),
    "login-form": req(b"POST", b"/api/auth/token", b"application/x-www-form-urlencoded", b"33",
                      body=b"username=alice&password=secret123"),
    "login-json": req(b"POST", b"/api/auth/login", b"application/json",
                      body=b'{"username":"alice","password":"x"}'),
    "me-with-token": req(uri=b"/api/users/me", auth=BEARER),
    "cached-user-xff-inm": req(uri=b"/api/users/1", xff=b"203.0.113.7, 10.0.0.1", inm=b'"abc"'),
    "metrics-slash": req(uri=b"/metrics/"),
    "metrics-remote": req(uri=b"/metrics", remote=b"203.0.113.7"),
    "bad-content-length": req(b"POST", b"/api/auth/register", b"application/json", b"-1",
                              body=b"{}"),
    "huge-content-length": req(b"POST", b"/api/auth/register", b"application/json", b"999999",
                               body=b"{}"),
    "short-content-length": req(b"POST", b"/api/auth/login", b"application/json", b"5",
                                body=b'{"username":"a","password":"b"}'),
    "bad-escape-path": req(uri=b"/api/users/%zz"),
    "session-delete": req(b"DELETE", b"/api/sessions/" + UUID.encode(), auth=BEARER),
    "leaderboard-nul": req(uri=b"/api/analytics/leaderboard?limit=3%00zz"),
    "health": req(uri=b"/health"),
    "wrong-method": req(b"PATCH", b"/api/users"),
    "cache-clear-anonymous": req(b"DELETE", b"/api/cache/clear?pattern=*"),
    "no-method": req(b""),
}

# ---- dictionaries ----
JSON_TOKENS = ['"{"', '"}"', '"["', '"]"', '":"', '","', '"\\""', '"true"', '"false"', '"null"',
               '"\\\\u0000"', '"\\\\ud83d\\\\ude00"', '"\\\\ud800"', '"1e400"', '"-0"',
               '"9223372036854775808"', '"\\xc3\\xa9"', '"\\xff"']
URL_TOKENS = ['"&"', '"="', '"%00"', '"%ff"', '"%"', '"+"', '"%2B"', '"%C2%85"', '"%20"',
              '"%0d%0a"']


def keys(*names):
    return ['"\\"%s\\""' % n for n in names]


D = {
    "fuzz_json": JSON_TOKENS + ['"application/json"', '"; charset=utf-8"', '"\\x0a"'],
    "fuzz_login_json": JSON_TOKENS + keys("username", "password"),
    "fuzz_register": JSON_TOKENS + keys("username", "email", "password", "full_name") +
    ['"@"', '"example.com"', '".."'],
    "fuzz_user_update": JSON_TOKENS + keys("email", "full_name", "password", "guild_rank",
                                           "experience_points", "missions_completed",
                                           "is_active", "is_admin") +
    ['"Master"', '"Apprentice"', '"1000000000000"'],
    "fuzz_mission_start": JSON_TOKENS + keys("mission_id", "mission_name") + ['"13"', '"14"'],
    "fuzz_session_create": JSON_TOKENS + keys("user_id", "created_at"),
    "fuzz_query": URL_TOKENS + ['"limit="', '"skip="', '"min_experience="', '"guild_rank="',
                                '"score="', '"1e999"', '"nan"', '"0x"', '"-9223372036854775808"'],
    "fuzz_login_form": URL_TOKENS + ['"username="', '"password="'],
    "fuzz_cache_clear": URL_TOKENS + ['"pattern="', '"*"', '"?"', '"["', '"]"', '"%5C"'],
    "fuzz_jwt": ['"Bearer "', '"."', '"eyJ"', '"alg"', '"none"', '"HS256"', '"HS512"', '"RS256"',
                 '"typ"', '"JWT"', '"kid"', '"crit"', '"\\x0a"'] + keys("sub", "uid", "iat", "exp",
                                                                       "jti"),
    "fuzz_router": ['"GET"', '"POST"', '"PUT"', '"DELETE"', '"PATCH"', '"/api/"', '"/users"',
                    '"/me"', '"/missions"', '"/complete"', '"/sessions"', '"/cache/clear"',
                    '"/analytics/leaderboard"', '"/auth/token"', '"/metrics"', '"/health"',
                    '"%2F"', '"%00"', '"//"', '"/."', '"/.."', '"?"', '"\\x0a"'],
    "fuzz_xff": ['","', '"::"', '"::ffff:"', '"127.0.0.1"', '"10.0.0."', '"2001:db8::"', '"/"',
                 '"%"', '"\\x0a"'],
    "fuzz_if_none_match": ['"W/"', '"\\""', '"*"', '","', '"0123456789abcdef0123456789abcdef"'],
}
D["fuzz_request"] = D["fuzz_router"] + ['"application/json"', '"Bearer "', '"127.0.0.1"',
                                        '"Content-Length"']


def main():
    for name, seeds in S.items():
        d = os.path.join(HERE, "corpus", name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for seed, data in seeds.items():
            with open(os.path.join(d, seed), "wb") as f:
                f.write(data)
    os.makedirs(os.path.join(HERE, "dict"), exist_ok=True)
    for name, tokens in D.items():
        with open(os.path.join(HERE, "dict", name + ".dict"), "w") as f:
            f.write("# %s: tokens for libFuzzer's mutator (written by fuzz/seeds.py)\n" % name)
            f.write("\n".join(tokens) + "\n")


if __name__ == "__main__":
    main()
