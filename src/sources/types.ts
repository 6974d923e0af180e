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
  /**
   * Set when the listing shows the file but it cannot be read (a symbolic link that leads nowhere, or to a file we
   * may not see): why. The fetch reports it and does not download it; size and time are then unknown (0, null).
   */
  unavailable?: string;
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
  /**
   * False when the listing's sizes are not to be trusted (`sftp.checkListedSize: false`): a download is then not
   * compared with the size it was listed with. Absent means true.
   */
  readonly checksListedSize?: boolean;
  list(): Promise<RemoteFile[]>;
  /**
   * Writes the file's bytes to `destPath` (a temporary name the caller later renames), fsynced. Retries and resumes
   * by itself where the transport can drop; throws SourceError when it gives up, FileUnavailableError when this one
   * file is gone or unreadable while the source itself works.
   */
  download(file: RemoteFile, destPath: string, signal: AbortSignal): Promise<Downloaded>;
  close(): Promise<void>;
}
