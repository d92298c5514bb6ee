# Varnish in front of Circle: Debian's varnish (7.1) with varnish-modules for xkey.
#
#   apt-get install -y varnish varnish-modules
#   varnishd -a :80 -f /etc/varnish/circle.vcl -s malloc,256m
#
# Circle marks every page it may share (a reader's page, feed or API read, built as a
# guest's and with no cookie set) with an `xkey` header naming what the page shows (post-7,
# section-2, home, all...), sent only when CIRCLE_PURGE_URLS is set. Only such answers
# are stored here, and the header is removed before they go out. After every change
# Circle sends `PURGE /` with `xkey-purge: <keys>` to each address in CIRCLE_PURGE_URLS,
# and the pages carrying any of those keys are dropped at once.
#
# Several app servers: add a backend per server and a line in vcl_init. Purges are
# accepted only from the addresses in the `purgers` ACL: add the app servers' addresses.

vcl 4.1;

import directors;
import xkey;

backend app1 {
    .host = "127.0.0.1";
    .port = "5000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
}

# backend app2 { .host = "10.0.0.12"; .port = "5000"; }

acl purgers {
    "localhost";
    "127.0.0.1";
    "::1";
    # "10.0.0.0"/24;
}

sub vcl_init {
    new circle = directors.round_robin();
    circle.add_backend(app1);
    # circle.add_backend(app2);
}

sub vcl_recv {
    set req.backend_hint = circle.backend();

    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Purging is not allowed from here"));
        }
        if (req.http.xkey-purge) {
            set req.http.X-Purged = xkey.purge(req.http.xkey-purge);
        } elsif (req.http.xkey-softpurge) {
            set req.http.X-Purged = xkey.softpurge(req.http.xkey-softpurge);
        } else {
            return (synth(400, "Say which keys: xkey-purge or xkey-softpurge"));
        }
        return (synth(200, "Purged " + req.http.X-Purged));
    }

    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # A request with a session (signed in, a flash message waiting, a form's token) goes
    # to Circle: it decides, from the signed cookie, whether the shared page (from its own
    # cache) may answer it, and its personal answers (/me/parts, accounts) are private.
    # Nothing such a request brings back is stored here.
    if (req.http.Authorization
        || req.http.Cookie ~ "(^|;\s*)(session|circle_remember|remember_token)=") {
        return (pass);
    }
    # Any other cookie (analytics...) is not Circle's: the shared page is the same.
    unset req.http.Cookie;
    return (hash);
}

sub vcl_backend_response {
    # A page that sets a cookie or is someone's own is never stored.
    if (beresp.http.Set-Cookie
        || beresp.http.Cache-Control ~ "(private|no-store)"
        || (!beresp.http.xkey && bereq.url !~ "^/static/")) {
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    if (beresp.http.xkey) {
        # Kept until a purge names one of its keys; the ttl bounds what no write
        # announces (a scheduled post coming due), like the app's own cache timeout.
        set beresp.ttl = 300s;
        set beresp.grace = 10s;
    }
    return (deliver);
}

sub vcl_deliver {
    if (resp.http.X-Cache) {
        set resp.http.X-App-Cache = resp.http.X-Cache;
    }
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    unset resp.http.xkey;
}
