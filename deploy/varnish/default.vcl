# Varnish in front of a pool of imgedge proxies (Varnish 7.1, Debian 12's package; no vmods needed).
#
# - Cache lifetimes come from imgedge's Cache-Control (the built-in VCL does that; this file only adds
#   rules before falling through to it).
# - Accept is reduced to the three answers imgedge can give for f:auto (avif, webp, legacy), so
#   `Vary: Accept` keeps at most three copies per URL instead of one per browser's Accept string.
# - Client hints (imgedge with IMGEDGE_CLIENT_HINTS=1) are rounded to the buckets imgedge/url/hints.py uses:
#   Sec-CH-DPR to 1/1.5/2/3/4, Sec-CH-Width and Sec-CH-Viewport-Width up to a width bucket, Save-Data to
#   `on` or nothing, so `Vary` on them keeps a few copies per URL.
# - `BAN` (or `PURGE`) with a `Surrogate-Key: <asset id>` header from the purgers ACL drops every variant
#   of that asset; imgedge sends it from its admin purge when IMGEDGE_CDN_PURGE_URLS names this Varnish.
#
# The backend address below is a placeholder: deployments template it (tests replace 127.0.0.1:8080).
vcl 4.1;

import std;

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
    call imgedge_normalize_hints;
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

# Mirrors imgedge/url/hints.py (dpr_bucket: nearest, ties down; width_bucket: round up, capped).
sub imgedge_normalize_hints {
    if (std.real(req.http.Sec-CH-DPR, 0) <= 0) {
        unset req.http.Sec-CH-DPR;
    } elsif (std.real(req.http.Sec-CH-DPR, 0) <= 1.25) {
        set req.http.Sec-CH-DPR = "1";
    } elsif (std.real(req.http.Sec-CH-DPR, 0) <= 1.75) {
        set req.http.Sec-CH-DPR = "1.5";
    } elsif (std.real(req.http.Sec-CH-DPR, 0) <= 2.5) {
        set req.http.Sec-CH-DPR = "2";
    } elsif (std.real(req.http.Sec-CH-DPR, 0) <= 3.5) {
        set req.http.Sec-CH-DPR = "3";
    } else {
        set req.http.Sec-CH-DPR = "4";
    }
    set req.http.X-Imgedge-Width = req.http.Sec-CH-Width;
    call imgedge_width_bucket;
    if (req.http.X-Imgedge-Width) {
        set req.http.Sec-CH-Width = req.http.X-Imgedge-Width;
    } else {
        unset req.http.Sec-CH-Width;
    }
    set req.http.X-Imgedge-Width = req.http.Sec-CH-Viewport-Width;
    call imgedge_width_bucket;
    if (req.http.X-Imgedge-Width) {
        set req.http.Sec-CH-Viewport-Width = req.http.X-Imgedge-Width;
    } else {
        unset req.http.Sec-CH-Viewport-Width;
    }
    unset req.http.X-Imgedge-Width;
    if (req.http.Save-Data ~ "(?i)^[[:space:]]*on[[:space:]]*$") {
        set req.http.Save-Data = "on";
    } else {
        unset req.http.Save-Data;
    }
}

sub imgedge_width_bucket {
    if (std.real(req.http.X-Imgedge-Width, 0) <= 0) {
        unset req.http.X-Imgedge-Width;
    } elsif (std.real(req.http.X-Imgedge-Width, 0) <= 160) {
        set req.http.X-Imgedge-Width = "160";
    } elsif (std.real(req.http.X-Imgedge-Width, 0) <= 320) {
        set req.http.X-Imgedge-Width = "320";
    } elsif (std.real(req.http.X-Imgedge-Width, 0) <= 480) {
        set req.http.X-Imgedge-Width = "480";
    } elsif (std.real(req.http.X-Imgedge-Width, 0) <= 640) {
        set req.http.X-Imgedge-Width = "640";
    } elsif (std.real(req.http.X-Imgedge-Width, 0) <= 768) {
        set req.http.X-Imgedge-Width = "768";
    } elsif (std.real(req.http.X-Imgedge-Width, 0) <= 1024) {
        set req.http.X-Imgedge-Width = "1024";
    } elsif (std.real(req.http.X-Imgedge-Width, 0) <= 1280) {
        set req.http.X-Imgedge-Width = "1280";
    } elsif (std.real(req.http.X-Imgedge-Width, 0) <= 1536) {
        set req.http.X-Imgedge-Width = "1536";
    } elsif (std.real(req.http.X-Imgedge-Width, 0) <= 1920) {
        set req.http.X-Imgedge-Width = "1920";
    } elsif (std.real(req.http.X-Imgedge-Width, 0) <= 2560) {
        set req.http.X-Imgedge-Width = "2560";
    } else {
        set req.http.X-Imgedge-Width = "3840";
    }
}

sub vcl_backend_response {
    # Vary on anything but the normalised headers would split the cache per client again.
    if (beresp.http.Vary && beresp.http.Vary !~ "^(Accept|Save-Data|Sec-CH-DPR|Sec-CH-Width|Sec-CH-Viewport-Width)(, (Accept|Save-Data|Sec-CH-DPR|Sec-CH-Width|Sec-CH-Viewport-Width))*$") {
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
