/**
 * Orion's error model: every failure answers `{"error": <code>, "description": <text>}` with the
 * status and the exact description texts Orion uses (src/lib/common/errorMessages.h), so clients
 * written against Orion branch on the same strings.
 */

export class OrionError extends Error {
  override name = 'OrionError';
  readonly status: number;
  readonly error: string;
  readonly description: string;
  readonly headers: Record<string, string>;

  constructor(status: number, error: string, description: string, headers: Record<string, string> = {}) {
    super(description);
    this.status = status;
    this.error = error;
    this.description = description;
    this.headers = headers;
  }

  toJSON(): { error: string; description: string } {
    return { error: this.error, description: this.description };
  }
}

export const badRequest = (description: string) => new OrionError(400, 'BadRequest', description);
export const parseError = () => new OrionError(400, 'ParseError', 'Errors found in incoming JSON buffer');
export const unprocessable = (description: string) => new OrionError(422, 'Unprocessable', description);
export const notImplemented = () => new OrionError(501, 'NotImplemented', 'this request is not implemented');

export const entityNotFound = () =>
  new OrionError(404, 'NotFound', 'The requested entity has not been found. Check type and id');
export const attributeNotFound = () =>
  new OrionError(404, 'NotFound', 'The entity does not have such an attribute');
export const typeNotFound = () => new OrionError(404, 'NotFound', 'Entity type not found');
export const subscriptionNotFound = () =>
  new OrionError(404, 'NotFound', 'The requested subscription has not been found. Check id');
export const tooManyResults = () =>
  new OrionError(409, 'TooManyResults', 'More than one matching entity. Please refine your query');
export const alreadyExists = () => new OrionError(422, 'Unprocessable', 'Already Exists');
export const serviceNotFound = () =>
  new OrionError(400, 'BadRequest', 'Service not found. Check your URL as probably it is wrong.');
export const methodNotAllowed = (allow: string[]) =>
  new OrionError(405, 'MethodNotAllowed', 'method not allowed', { Allow: allow.join(', ') });

/** RFC 9110 reason phrases, as Orion (libmicrohttpd) prints them; Node's own differ for 413 and 422. */
export const REASON: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  411: 'Length Required',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  501: 'Not Implemented',
};
