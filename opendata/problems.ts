/** The module's problem codes (RFC 9457 `type` = urn:tsunagu:problem:<code>). */
import { defineProblem } from '../core/index.ts';

defineProblem('opendata-undecodable', { status: 422, title: 'The file is not valid UTF-8 or Shift_JIS' });
defineProblem('opendata-csv-syntax', { status: 422, title: 'The file is not valid CSV' });
defineProblem('opendata-dataset-unknown', { status: 422, title: 'No standard dataset matches the header' });
defineProblem('opendata-empty-file', { status: 422, title: 'The file has no records' });
defineProblem('opendata-already-registered', { status: 409, title: 'This upload is already registered' });
defineProblem('opendata-broker-failed', { status: 502, title: 'The context broker rejected the entities' });
defineProblem('opendata-registering', { status: 409, title: 'This upload is being registered' });
