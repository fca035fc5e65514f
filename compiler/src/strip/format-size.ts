/** Image and file sizes as people read them. Pure; shared by strip, the benchmarks and the site. */

/** Bytes in decimal megabytes, as `docker images` prints them: 23456789 → "23.5 MB". */
export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
