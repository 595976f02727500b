/**
 * The load side of bench/consent.ts, in its own process: POST /api/consent/decisions at a fixed
 * 300 req/s with varying residents, items and services. Prints one JSON line.
 */
import autocannon from 'autocannon';

const url = process.env['URL']!;
const residents = Number(process.env['RESIDENTS']);
const seconds = Number(process.env['SECONDS']);
const items = [
  'name',
  'address',
  'birthdate',
  'gender',
  'email',
  'phone',
  'points-history',
  'activity-records',
  'health-records',
];
let i = 0;

const result = await autocannon({
  url,
  method: 'POST',
  connections: 10,
  overallRate: 300,
  duration: seconds,
  requests: [
    {
      setupRequest: (req) => {
        i += 1;
        const k = i % 10;
        const service = `svc-${k % 5}`;
        return {
          ...req,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${service}` },
          body: JSON.stringify({
            subject: `r${String((i * 7919) % residents).padStart(7, '0')}`,
            item: items[k % 9],
            purpose: 'bench',
          }),
        };
      },
    },
  ],
});
console.log(
  JSON.stringify({
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  }),
);
