"""Every bound the generator puts on what a client sends, in one place (the proxy's is imgedge.proxy.security;
docs/security.md lists both with their settings):

- `limits`   GeneratorLimits: the sizes and caps, from the settings, and which route may send how many bytes.
- `json_body` one strict JSON reader: application/json only (415), bounded size (413), nesting depth, finite
              numbers, no duplicate keys, text that is valid Unicode without control characters (400/422).
- `text`     what a text field may hold, and the normal form moderation matches against.
- `urls`     webhook URLs: http(s), no userinfo or fragment, a host that is a host.
- `query`    query parameters: ASCII digits only.
- `clients`  the caps that come with who is asking (a Caller: an API key, the administrator, or anonymous by
             address): pixels, steps, queued + running jobs (403 / 429 naming the limit).
- `public_urls` absolute URLs only from IMGEDGE_PUBLIC_URL, never from `Host`.
- `visibility` pending and rejected assets' metadata: the administrator and their creators only (404).
"""
