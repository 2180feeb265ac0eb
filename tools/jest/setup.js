// Every test runs in UTC (dates in tests then mean the same everywhere) with Nest's metadata polyfill loaded.
process.env.TZ = 'UTC';
require('reflect-metadata');
