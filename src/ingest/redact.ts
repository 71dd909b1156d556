// Secrets never reach logs or the API: credentials in URLs are masked wherever text leaves us.
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+)(:[^/\s@]*)?@/gi;

/** rtsp://user:pass@host/… → rtsp://***:***@host/… (in any text, e.g. an ffmpeg log line). */
export function redact(text: string): string {
  return text.replace(URL_CREDENTIALS, (_m, scheme: string, _user: string, pass: string | undefined) => `${scheme}***${pass ? ':***' : ''}@`);
}
