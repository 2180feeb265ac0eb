/**
 * A self-signed certificate for `localhost` and 127.0.0.1 (EC P-256, valid for a century), for TLS fakes on
 * loopback. Test-only: the key is public on purpose and trusts nothing but these fakes (pass `cert` as `ca`).
 */
export const TEST_TLS = {
  key: [
    '-----BEGIN PRIVATE KEY-----',
    'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgmAa0qc0oMgloo7DK',
    'sCozQO6KxB/4rMr6g+mWMECcfMmhRANCAATP4ceiKBzD+Jp2Xe1GMIyr10QPac9u',
    'yinV1rQdE1k6rXlSbI5fwXYelY3TCem+3T4EsR20Am7l1j+dtCtWw5sz',
    '-----END PRIVATE KEY-----',
  ].join('\n'),
  cert: [
    '-----BEGIN CERTIFICATE-----',
    'MIIBmzCCAUGgAwIBAgIUVMR4DIujt+E7bDN1mGFvg6QgPNAwCgYIKoZIzj0EAwIw',
    'FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMTEyMDgwOVoYDzIxMjYxMTA3',
    'MTIwODA5WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO',
    'PQMBBwNCAATP4ceiKBzD+Jp2Xe1GMIyr10QPac9uyinV1rQdE1k6rXlSbI5fwXYe',
    'lY3TCem+3T4EsR20Am7l1j+dtCtWw5szo28wbTAdBgNVHQ4EFgQUXSnCw0J6zMBA',
    'LxuyBA8Avp2p4oIwHwYDVR0jBBgwFoAUXSnCw0J6zMBALxuyBA8Avp2p4oIwDwYD',
    'VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI',
    'zj0EAwIDSAAwRQIhANjVEP7T6g90eT3n6BV9OqDs6hN+R8XvluRIvokgRIOzAiBv',
    'AlXmU6QQejTEQ+fMHiDa8VAZaDeiuk4m+TYLTXA2BA==',
    '-----END CERTIFICATE-----',
  ].join('\n'),
};

/**
 * A self-signed certificate for the name `localhost` only (no IP address), to prove a TLS client checks the
 * name it dialled: it must be refused for an upstream addressed as 127.0.0.1. Test-only, like TEST_TLS.
 */
export const TEST_TLS_NAME_ONLY = {
  key: [
    '-----BEGIN PRIVATE KEY-----',
    'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg6Q+q0GzRyUbiMWTS',
    'NedrBIKWFIpjgnxg3YvLq/Ein4ShRANCAAQc01In5dH55Pr4RqMXB97hcLgaed2M',
    'C4KQRLDJGGMp43+B2d2Fvqg0i8BDXwmodyOsXccWivwc3DcahSb52BtV',
    '-----END PRIVATE KEY-----',
  ].join('\n'),
  cert: [
    '-----BEGIN CERTIFICATE-----',
    'MIIBlTCCATugAwIBAgIUUTpw2626rQ5Tza6OHS8b3fvSg7QwCgYIKoZIzj0EAwIw',
    'FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMTEzMTAxM1oYDzIxMjYxMTA3',
    'MTMxMDEzWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO',
    'PQMBBwNCAAQc01In5dH55Pr4RqMXB97hcLgaed2MC4KQRLDJGGMp43+B2d2Fvqg0',
    'i8BDXwmodyOsXccWivwc3DcahSb52BtVo2kwZzAdBgNVHQ4EFgQUZDd5YRu6fkP+',
    '2Yj5AaQayaDyDfwwHwYDVR0jBBgwFoAUZDd5YRu6fkP+2Yj5AaQayaDyDfwwFAYD',
    'VR0RBA0wC4IJbG9jYWxob3N0MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID',
    'SAAwRQIhALlQ1Ru+fS5XALXOLhK6WwIBIpO7napzKal1AiOYdCOqAiBrvaXULlbP',
    '5PUEkpM1Ja1VKX8fcCnVEukqaHVVT/6z8w==',
    '-----END CERTIFICATE-----',
  ].join('\n'),
};

/**
 * A self-signed certificate for the address 127.0.0.1 only (no host name): accepted for an upstream addressed
 * as 127.0.0.1, refused for one reached as `localhost`. Test-only, like TEST_TLS.
 */
export const TEST_TLS_IP_ONLY = {
  key: [
    '-----BEGIN PRIVATE KEY-----',
    'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgk5pegCszwl92Uk66',
    'APxg495osFz1iJWTnh3Exgo7qDOhRANCAAQzWEkF/jumeqXk44hCLPaounKg7RbQ',
    'RVrzvDqKGGJWVLKcbfbfuMPsDhzbY8LAUA/M97ow/Jhgp6ROXwa0Rj1C',
    '-----END PRIVATE KEY-----',
  ].join('\n'),
  cert: [
    '-----BEGIN CERTIFICATE-----',
    'MIIBjzCCATagAwIBAgIUDx87ZfLjxKatN+kNb2W620eT4kYwCgYIKoZIzj0EAwIw',
    'FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTIwMTEzMTAxM1oYDzIxMjYxMTA3',
    'MTMxMDEzWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO',
    'PQMBBwNCAAQzWEkF/jumeqXk44hCLPaounKg7RbQRVrzvDqKGGJWVLKcbfbfuMPs',
    'DhzbY8LAUA/M97ow/Jhgp6ROXwa0Rj1Co2QwYjAdBgNVHQ4EFgQUW/cCbVWM+GsT',
    'LvznbrwxeUyhm9AwHwYDVR0jBBgwFoAUW/cCbVWM+GsTLvznbrwxeUyhm9AwDwYD',
    'VR0RBAgwBocEfwAAATAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQC',
    'IFRpJe3QqVnV6+soR8FgWltnHReM9g/icg1nPjAZoTaYAiADenxvoxKyXJ1Qd3tk',
    'l4P6qD7H6pvqRUb1pGVeiUbACQ==',
    '-----END CERTIFICATE-----',
  ].join('\n'),
};
