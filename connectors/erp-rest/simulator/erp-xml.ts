import { XMLBuilder } from 'fast-xml-parser';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: false, suppressEmptyNode: false });

/** XML as the simulator's REST and OData v2 (Atom-like) endpoints answer it. */
export function toXml(doc: unknown): string {
  return '<?xml version="1.0" encoding="utf-8"?>' + builder.build(doc);
}
