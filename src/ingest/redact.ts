// Secrets never reach logs, the API or other users: credentials in URLs are masked wherever text
// leaves us, and split at the LAST '@' of the authority, as ffmpeg (av_url_split) and the WHATWG
// URL parser do, so a literal '@' in a password is masked whole. Pure: no IO.

/** scheme:// then the authority up to its last '@' (the authority ends at '/', '?', '#' or a space). */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*)@/gi;

/** rtsp://user:pass@host/… → rtsp://***:***@host/… (in any text, e.g. an ffmpeg log line). */
export function redact(text: string): string {
  return text.replace(URL_CREDENTIALS, (_m, scheme: string, userinfo: string) => `${scheme}***${userinfo.includes(':') ? ':***' : ''}@`);
}

export interface UrlCredentials {
  /** "rtsp://" */
  readonly scheme: string;
  /** As written (percent-encoding kept), and decoded. */
  readonly user: string;
  readonly password: string | undefined;
  /** The URL after the credentials: host, port, path. */
  readonly rest: string;
}

const decode = (s: string): string => {
  try { return decodeURIComponent(s); } catch { return s; } // not valid percent-encoding: taken as written
};

/** The credentials of a URL (user up to the first ':' of the userinfo, password after it), decoded; undefined without any. */
export function urlCredentials(url: string): UrlCredentials | undefined {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*)@(.*)$/is.exec(url);
  if (!m) return undefined;
  const userinfo = m[2]!;
  const colon = userinfo.indexOf(':');
  return {
    scheme: m[1]!,
    user: decode(colon < 0 ? userinfo : userinfo.slice(0, colon)),
    password: colon < 0 ? undefined : decode(userinfo.slice(colon + 1)),
    rest: m[3]!,
  };
}

/**
 * The URL with its credentials percent-encoded (ffmpeg decodes them), so a literal '@' or ':' in
 * a password reaches the camera as written.
 */
export function canonicalCredentials(url: string): string {
  const c = urlCredentials(url);
  if (!c) return url;
  return `${c.scheme}${encodeURIComponent(c.user)}${c.password === undefined ? '' : `:${encodeURIComponent(c.password)}`}@${c.rest}`;
}

/** The password of a URL as written and decoded: masked in any text besides URLs. Short ones only through URL masking. */
export function secretsOfUrl(url: string): string[] {
  const c = urlCredentials(url);
  if (!c?.password) return [];
  const written = /^[a-z][a-z0-9+.-]*:\/\/[^:]*:([^/?#\s]*)@/is.exec(url)?.[1] ?? c.password;
  // Masking a 1–3 character string everywhere would garble messages; URLs are masked regardless.
  return [...new Set([written, c.password, encodeURIComponent(c.password)])].filter((s) => s.length >= 4);
}
