# DNS: DnsClient (c-ares on libuv) and SipResolver, partly against a real dnsmasq on loopback.
sipreg_add_unit_test(net_dns_client_test SOURCES dns_client_test.cc LIBS sipreg_net sipreg_warnings TIMEOUT 60)
sipreg_add_unit_test(net_sip_resolver_test SOURCES sip_resolver_test.cc LIBS sipreg_net sipreg_warnings TIMEOUT 60)
