# Stream flows (TCP, TLS) against test-side servers on 127.0.0.1 and ::1.
sipreg_add_unit_test(net_stream_transport_test SOURCES stream_transport_test.cc LIBS sipreg_net sipreg_warnings TIMEOUT 120)
sipreg_add_unit_test(net_stream_tls_test SOURCES stream_tls_test.cc LIBS sipreg_net sipreg_warnings TIMEOUT 120)
