import { z } from 'zod';
import { X12Config } from '../x12/partners.js';

const folder = z.string().regex(/^\/[^\0]*$/, 'must be an absolute path on the server, e.g. /outbound/inbox').transform((p) => (p.length > 1 ? p.replace(/\/+$/, '') : p));

/** SHA256 fingerprints as `ssh-keygen -lf` prints them: "SHA256:" + base64 without padding. */
const fingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be a SHA256 host key fingerprint such as SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8 (ssh-keygen -lf <host key>.pub)');

export const CsvOptions = z.strictObject({
  delimiter: z.string().min(1).max(4).default(','),
  quote: z.string().length(1).default('"'),
  encoding: z.enum(['utf8', 'latin1', 'utf16le']).default('utf8'),
  /** The first line names the columns; otherwise `columns` must list them. */
  header: z.boolean().default(true),
  /** Without a header: the column names in order. */
  columnNames: z.array(z.string().min(1)).optional(),
  /** Renames columns (file header → field name the mapping uses); unlisted columns keep their header. */
  columns: z.record(z.string(), z.string().min(1)).default({}),
});

export const SftpConfig = z
  .strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1),
    /** Pinned host key fingerprint(s); a server presenting another key is refused. */
    hostKeySha256: z.union([fingerprint, z.array(fingerprint).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
    inbox: folder,
    /** File name pattern in the inbox: * and ? wildcards, e.g. "*.csv". */
    glob: z.string().min(1).default('*'),
    pollIntervalSeconds: z.number().min(0.1).max(86_400).default(60),
    maxFilesPerPoll: z.number().int().min(1).max(1000).default(20),
    sort: z.enum(['oldest', 'newest', 'name']).default('oldest'),
    stable: z
      .strictObject({
        /** Take a file only when size and mtime are unchanged since the previous poll. */
        twoLooks: z.boolean().default(true),
        /** Minimum time since the file's last modification. */
        minAgeSeconds: z.number().min(0).max(86_400).default(0),
        /** Companion file that signals completion, e.g. ".done" (order.csv → order.csv.done); removed after the file is archived. */
        doneSuffix: z.string().min(1).max(32).optional(),
      })
      .default({ twoLooks: true, minAgeSeconds: 0 }),
    archive: folder,
    error: folder,
    /** Where acknowledgments (997/999/TA1) and other outbound files are written (temp name, then rename). */
    outbox: folder.optional(),
    format: z.enum(['x12', 'csv', 'xml', 'jsonl']),
    /** `type` of each CSV/JSONL/XML record handed to the mapping (e.g. "short-ship", "inventory-variance"). */
    recordType: z.string().min(1).max(64).default('record'),
    /** Records per stored message for CSV and JSON lines (bounded pipeline work per job). */
    batchRecords: z.number().int().min(1).max(50_000).default(1000),
    /** …and at most this many bytes per stored message (wide rows make fewer records per batch; a longer single record goes alone). */
    batchBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    csv: CsvOptions.default(CsvOptions.parse({})),
    xml: z
      .strictObject({
        /** Dotted path to the repeating record element, e.g. "Variances.Variance". */
        recordPath: z.string().min(1),
        /** Larger XML files are refused (moved to the error folder); XML is read whole. */
        maxBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(16 * 1024 * 1024),
      })
      .optional(),
    /** X12 files: our identity and partner profiles, as for the x12 connector. */
    x12: X12Config.optional(),
    /** One stored message per interchange; a larger interchange is refused. */
    maxInterchangeBytes: z.number().int().min(1024).max(128 * 1024 * 1024).default(16 * 1024 * 1024),
    connectTimeoutSeconds: z.number().min(1).max(120).default(20),
    /** Failed polls in a row before INTEGRATION.CONNECTOR_DOWN. */
    downAfterFailures: z.number().int().min(1).max(100).default(3),
    /** Raise INTEGRATION.FEED_SILENT when no file arrived for this long. */
    silentAfterMinutes: z.number().min(1).max(60 * 24 * 31).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.format === 'xml' && !c.xml) ctx.addIssue({ code: 'custom', path: ['xml'], message: 'format "xml" needs xml.recordPath' });
    if (c.format === 'x12' && !c.x12) ctx.addIssue({ code: 'custom', path: ['x12'], message: 'format "x12" needs x12.us and x12.partners' });
    if (c.format === 'csv' && !c.csv.header && !c.csv.columnNames) ctx.addIssue({ code: 'custom', path: ['csv', 'columnNames'], message: 'without a header line, list the column names' });
    for (const f of ['archive', 'error', 'outbox'] as const) {
      if (c[f] === c.inbox) ctx.addIssue({ code: 'custom', path: [f], message: `must differ from the inbox` });
    }
  });
export type SftpConfig = z.infer<typeof SftpConfig>;

export const SftpSecrets = z
  .strictObject({
    password: z.string().min(1).optional(),
    /** OpenSSH or PEM private key text. */
    privateKey: z.string().includes('PRIVATE KEY', { message: 'must be a private key in OpenSSH or PEM format' }).optional(),
    passphrase: z.string().optional(),
  })
  .refine((s) => s.password || s.privateKey, { message: 'give a password or a privateKey', path: ['password'] });
export type SftpSecrets = z.infer<typeof SftpSecrets>;
