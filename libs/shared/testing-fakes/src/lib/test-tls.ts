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
