/** Replaces a secret with a fixed mask, keeping only whether it is set. */
export function mask(secret: string | undefined): string {
  return secret ? "********" : "";
}

/** Removes `user:password@` from a URL-like string so it can be logged. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/)([^/@\s]+)@/, "$1***@");
}
