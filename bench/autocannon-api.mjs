// Runs autocannon through its API under node: `node bench/autocannon-api.mjs '<options as JSON>'`.
// Prints one JSON line with the figures the benchmark reads.
import autocannon from 'autocannon'

const options = JSON.parse(process.argv[2] ?? '{}')
const result = await autocannon(options)
console.log(
  JSON.stringify({
    requests: result.requests.total,
    duration: result.duration,
    average: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.mean,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }),
)
