// Every test runs in UTC (STYLE.md) with Nest's metadata polyfill loaded.
process.env.TZ = 'UTC';
require('reflect-metadata');
