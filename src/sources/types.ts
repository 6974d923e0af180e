// Where settlement files come from. Sources only list and download; what to fetch, and loading, live elsewhere.

export interface RemoteFile {
  /** The file name as the server gave it: untrusted until checked by `unsafeNameReason`. */
  name: string;
  /** Full remote path, used in the file's identity (provider, remote path, size, SHA-256). */
  path: string;
  size: number;
  /**
   * As listed (a symbolic link's target costs one request; plain files none); null when the source reports none.
   * Tells a same-size re-delivery.
   */
  modifiedAt: Date | null;
}

export interface Downloaded {
  size: number;
  /** Lower-case hex SHA-256 of the bytes written, computed while streaming. */
  sha256: string;
}

export interface SettlementSource {
  /** For messages: "sftp://merchant@host:22/outgoing" or the local folder. */
  readonly description: string;
  /** How many downloads may run at once. */
  readonly parallelism: number;
  list(): Promise<RemoteFile[]>;
  /**
   * Writes the file's bytes to `destPath` (a temporary name the caller later renames), fsynced. Retries and resumes
   * by itself where the transport can drop; throws SourceError when it gives up.
   */
  download(file: RemoteFile, destPath: string, signal: AbortSignal): Promise<Downloaded>;
  close(): Promise<void>;
}
