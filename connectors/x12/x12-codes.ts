/**
 * X12 acknowledgment code tables with their standard descriptions (005010 wording, which is a superset
 * of 004010 for everything the hub emits). Findings carry these codes; the 997/999/TA1 builders copy them
 * into AK3/AK4/AK5/AK9 (IK3/IK4/IK5) and TA105, and exception cases show the descriptions to people.
 */

/** TA105 (I18) Interchange Note Code. */
export const TA1_NOTE_CODES = {
  '000': 'No error',
  '001': 'The Interchange Control Number in the Header and Trailer Do Not Match. The Value From the Header is Used in the Acknowledgment.',
  '002': 'This Standard as Noted in the Control Standards Identifier is Not Supported.',
  '003': 'This Version of the Controls is Not Supported',
  '004': 'The Segment Terminator is Invalid',
  '005': 'Invalid Interchange ID Qualifier for Sender',
  '006': 'Invalid Interchange Sender ID',
  '007': 'Invalid Interchange ID Qualifier for Receiver',
  '008': 'Invalid Interchange Receiver ID',
  '009': 'Unknown Interchange Receiver ID',
  '010': 'Invalid Authorization Information Qualifier Value',
  '011': 'Invalid Authorization Information Value',
  '012': 'Invalid Security Information Qualifier Value',
  '013': 'Invalid Security Information Value',
  '014': 'Invalid Interchange Date Value',
  '015': 'Invalid Interchange Time Value',
  '016': 'Invalid Interchange Standards Identifier Value',
  '017': 'Invalid Interchange Version ID Value',
  '018': 'Invalid Interchange Control Number Value',
  '019': 'Invalid Acknowledgment Requested Value',
  '020': 'Invalid Test Indicator Value',
  '021': 'Invalid Number of Included Groups Value',
  '022': 'Invalid Control Structure',
  '023': 'Improper (Premature) End-of-File (Transmission)',
  '024': 'Invalid Interchange Content (e.g., Invalid GS Segment)',
  '025': 'Duplicate Interchange Control Number',
  '026': 'Invalid Data Element Separator',
  '027': 'Invalid Component Element Separator',
  '028': 'Invalid Delivery Date in Deferred Delivery Request',
  '029': 'Invalid Delivery Time in Deferred Delivery Request',
  '030': 'Invalid Delivery Time Code in Deferred Delivery Request',
  '031': 'Invalid Grade of Service Code',
} as const;
export type Ta1NoteCode = keyof typeof TA1_NOTE_CODES;

/** TA104 (I17) Interchange Acknowledgment Code. */
export const TA1_ACK_CODES = {
  A: 'The Transmitted Interchange Control Structure Header and Trailer Have Been Received and Have No Errors.',
  E: 'The Transmitted Interchange Control Structure Header and Trailer Have Been Received and Are Accepted But Errors Are Noted.',
  R: 'The Transmitted Interchange Control Structure Header and Trailer are Rejected Because of Errors.',
} as const;
export type Ta1AckCode = keyof typeof TA1_ACK_CODES;

/**
 * AK905-AK909 / 999 AK905-AK909 (716) Functional Group Syntax Error Code. Code 19 means
 * "not unique within interchange" only from 004050; in 004010 it is an S1E security code, so the walker
 * never emits it (GS06 uniqueness is left to the caller's control-number store).
 */
export const GROUP_ERROR_CODES = {
  '1': 'Functional Group Not Supported',
  '2': 'Functional Group Version Not Supported',
  '3': 'Functional Group Trailer Missing',
  '4': 'Group Control Number in the Functional Group Header and Trailer Do Not Agree',
  '5': 'Number of Included Transaction Sets Does Not Match Actual Count',
  '6': 'Group Control Number Violates Syntax',
  '10': 'Authentication Key Name Unknown',
  '11': 'Encryption Key Name Unknown',
  '12': 'Requested Service (Authentication or Encryption) Not Available',
  '13': 'Unknown Security Recipient',
  '14': 'Unknown Security Originator',
  '15': 'Syntax Error in Decrypted Text',
  '16': 'Security Not Supported',
  '17': 'Incorrect Message Length (Encryption Only)',
  '18': 'Message Authentication Code Failed',
  '19': 'Functional Group Control Number not Unique within Interchange',
  '23': 'S3E Security End Segment Missing for S3S Security Start Segment',
  '24': 'S3S Security Start Segment Missing for S3E End Segment',
  '25': 'S4E Security End Segment Missing for S4S Security Start Segment',
  '26': 'S4S Security Start Segment Missing for S4E Security End Segment',
} as const;
export type GroupErrorCode = keyof typeof GROUP_ERROR_CODES;

/** AK502-AK506 (718) / IK502-IK506 (618) Transaction Set Syntax Error Code; I5/I6 exist in the 999 only. */
export const SET_ERROR_CODES = {
  '1': 'Transaction Set Not Supported',
  '2': 'Transaction Set Trailer Missing',
  '3': 'Transaction Set Control Number in Header and Trailer Do Not Match',
  '4': 'Number of Included Segments Does Not Match Actual Count',
  '5': 'One or More Segments in Error',
  '6': 'Missing or Invalid Transaction Set Identifier',
  '7': 'Missing or Invalid Transaction Set Control Number',
  '8': 'Authentication Key Name Unknown',
  '9': 'Encryption Key Name Unknown',
  '10': 'Requested Service (Authentication or Encrypted) Not Available',
  '11': 'Unknown Security Recipient',
  '12': 'Incorrect Message Length (Encryption Only)',
  '13': 'Message Authentication Code Failed',
  '15': 'Unknown Security Originator',
  '16': 'Syntax Error in Decrypted Text',
  '17': 'Security Not Supported',
  '18': 'Transaction Set not in Functional Group',
  '19': 'Invalid Transaction Set Implementation Convention Reference',
  '23': 'Transaction Set Control Number Not Unique within the Functional Group',
  '24': 'S3E Security End Segment Missing for S3S Security Start Segment',
  '25': 'S3S Security Start Segment Missing for S3E Security End Segment',
  '26': 'S4E Security End Segment Missing for S4S Security Start Segment',
  '27': 'S4S Security Start Segment Missing for S4E Security End Segment',
  I5: 'Implementation One or More Segments in Error',
  I6: 'Implementation Convention Not Supported',
} as const;
export type SetErrorCode = keyof typeof SET_ERROR_CODES;

/** AK304 (720) / IK304 (620) Segment Syntax Error Code; the I codes exist in the 999 only. */
export const SEGMENT_ERROR_CODES = {
  '1': 'Unrecognized segment ID',
  '2': 'Unexpected segment',
  '3': 'Mandatory segment missing',
  '4': 'Loop Occurs Over Maximum Times',
  '5': 'Segment Exceeds Maximum Use',
  '6': 'Segment Not in Defined Transaction Set',
  '7': 'Segment Not in Proper Sequence',
  '8': 'Segment Has Data Element Errors',
  I4: 'Implementation "Not Used" Segment Present',
  I6: 'Implementation Dependent Segment Missing',
  I7: 'Implementation Loop Occurs Under Minimum Times',
  I8: 'Implementation Segment Below Minimum Use',
  I9: 'Implementation Dependent "Not Used" Segment Present',
} as const;
export type SegmentErrorCode = keyof typeof SEGMENT_ERROR_CODES;

/** AK403 (723) / IK403 (621) Data Element Syntax Error Code; 12/13 from 004020, the I codes in the 999 only. */
export const ELEMENT_ERROR_CODES = {
  '1': 'Mandatory data element missing',
  '2': 'Conditional required data element missing',
  '3': 'Too many data elements',
  '4': 'Data element too short',
  '5': 'Data element too long',
  '6': 'Invalid character in data element',
  '7': 'Invalid code value',
  '8': 'Invalid Date',
  '9': 'Invalid Time',
  '10': 'Exclusion Condition Violated',
  '12': 'Too Many Repetitions',
  '13': 'Too Many Components',
  I6: 'Code Value Not Used in Implementation',
  I9: 'Implementation Dependent Data Element Missing',
  I10: 'Implementation "Not Used" Data Element Present',
  I11: 'Implementation Too Few Repetitions',
  I12: 'Implementation Pattern Match Failure',
  I13: 'Implementation Dependent "Not Used" Data Element Present',
} as const;
export type ElementErrorCode = keyof typeof ELEMENT_ERROR_CODES;

/** AK501 (717) / IK501 Transaction Set Acknowledgment Code. */
export const SET_ACK_CODES = {
  A: 'Accepted',
  E: 'Accepted But Errors Were Noted',
  M: 'Rejected, Message Authentication Code (MAC) Failed',
  R: 'Rejected',
  W: 'Rejected, Assurance Failed Validity Tests',
  X: 'Rejected, Content After Decryption Could Not Be Analyzed',
} as const;
export type SetAckCode = keyof typeof SET_ACK_CODES;

/** AK901 (715) Functional Group Acknowledge Code. */
export const GROUP_ACK_CODES = {
  A: 'Accepted',
  E: 'Accepted, But Errors Were Noted.',
  M: 'Rejected, Message Authentication Code (MAC) Failed',
  P: 'Partially Accepted, At Least One Transaction Set Was Rejected',
  R: 'Rejected',
  W: 'Rejected, Assurance Failed Validity Tests',
  X: 'Rejected, Content After Decryption Could Not Be Analyzed',
} as const;
export type GroupAckCode = keyof typeof GROUP_ACK_CODES;

/** Which table a finding's code belongs to, by the level it was found at. */
export interface CodeByLevel {
  interchange: Ta1NoteCode;
  group: GroupErrorCode;
  set: SetErrorCode;
  segment: SegmentErrorCode;
  element: ElementErrorCode;
}

const TABLES: { [L in keyof CodeByLevel]: Record<string, string> } = {
  interchange: TA1_NOTE_CODES,
  group: GROUP_ERROR_CODES,
  set: SET_ERROR_CODES,
  segment: SEGMENT_ERROR_CODES,
  element: ELEMENT_ERROR_CODES,
};

/** The standard description of a code at a level, or undefined when the code is not in that table. */
export function describeCode(level: keyof CodeByLevel, code: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(TABLES[level], code) ? TABLES[level][code] : undefined;
}
