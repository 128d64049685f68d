# Varnish in front of a pool of imgedge proxies (Varnish 7.1, Debian 12's package; no vmods needed).
#
# - Cache lifetimes come from imgedge's Cache-Control (the built-in VCL does that; this file only adds
#   rules before falling through to it).
# - Accept is reduced to the three answers imgedge can give for f:auto (avif, webp, legacy), so
#   `Vary: Accept` keeps at most three copies per URL instead of one per browser's Accept string.
# - `BAN` (or `PURGE`) with a `Surrogate-Key: <asset id>` header from the purgers ACL drops every variant
#   of that asset; imgedge sends it from its admin purge when IMGEDGE_CDN_PURGE_URLS names this Varnish.
#
# The backend address below is a placeholder: deployments template it (tests replace 127.0.0.1:8080).
vcl 4.1;

backend imgedge {
    .host = "127.0.0.1";
    .port = "8080";
    .connect_timeout = 2s;
    # A cold transform of a large original is bounded by IMGEDGE_TRANSFORM_TIMEOUT (20 s) on the proxy.
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
}

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "BAN" || req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "purge not allowed from this address"));
        }
        # Asset ids are hex digests; anything else would be spliced into a ban regex.
        if (req.http.Surrogate-Key !~ "^[A-Za-z0-9_.-]{1,128}$") {
            return (synth(400, "Surrogate-Key header with one asset id required"));
        }
        # Only obj.* in the expression: the ban lurker can then clear matching objects in the background
        # instead of every later lookup testing them.
        ban("obj.http.Surrogate-Key ~ (^|[[:space:]])" + req.http.Surrogate-Key + "($|[[:space:]])");
        return (synth(200, "banned"));
    }
    if (req.url ~ "^/admin/" || req.url ~ "^/healthz") {
        return (pass);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Transform URLs are public and signed: cookies and credentials never change the bytes.
    unset req.http.Cookie;
    unset req.http.Authorization;
    call imgedge_normalize_accept;
    # Falls through to the built-in vcl_recv, which hashes URL + Host.
}

# Mirrors proxy/negotiate.py: a format counts when listed explicitly with q > 0; wildcards promise nothing.
sub imgedge_normalize_accept {
    if (req.http.Accept ~ "(?i)(^|,)[[:space:]]*image/avif[[:space:]]*(,|$|;(?![[:space:]]*q[[:space:]]*=[[:space:]]*0(\.0*)?[[:space:]]*(,|;|$)))") {
        set req.http.Accept = "image/avif";
    } elsif (req.http.Accept ~ "(?i)(^|,)[[:space:]]*image/webp[[:space:]]*(,|$|;(?![[:space:]]*q[[:space:]]*=[[:space:]]*0(\.0*)?[[:space:]]*(,|;|$)))") {
        set req.http.Accept = "image/webp";
    } else {
        set req.http.Accept = "image/jpeg,image/png";
    }
}

sub vcl_backend_response {
    # Vary on anything but Accept (normalised above) would split the cache per client again.
    if (beresp.http.Vary && beresp.http.Vary != "Accept") {
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
    # Falls through to the built-in rules: TTL from s-maxage / max-age, stale-while-revalidate as grace,
    # and no caching for private / no-store / no-cache (pending-moderation and auth errors).
}

sub vcl_deliver {
    # RFC 9211: each cache appends its own entry after the origin's.
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
        set resp.http.X-Varnish-Entry = "varnish; hit";
    } else {
        set resp.http.X-Cache = "MISS";
        set resp.http.X-Varnish-Entry = "varnish; fwd=miss";
    }
    if (resp.http.Cache-Status) {
        set resp.http.Cache-Status = resp.http.Cache-Status + ", " + resp.http.X-Varnish-Entry;
    } else {
        set resp.http.Cache-Status = resp.http.X-Varnish-Entry;
    }
    unset resp.http.X-Varnish-Entry;
}
