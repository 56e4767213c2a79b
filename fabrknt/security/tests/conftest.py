from fabrknt.security.tests import local_site as outgoing

# A real HTTP server on 127.0.0.1 and a fake DNS, for fetch tests.
local_site = outgoing.local_site
fake_dns = outgoing.fake_dns
