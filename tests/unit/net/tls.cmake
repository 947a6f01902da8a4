# TLS client sessions against an in-memory OpenSSL server, with a CA minted per test run.
# The support library is also meant for other TLS-over-stream tests.
add_library(sipreg_tls_test_support STATIC
  ${CMAKE_CURRENT_LIST_DIR}/tls_support/test_pki.cc
  ${CMAKE_CURRENT_LIST_DIR}/tls_support/test_tls_server.cc)
target_include_directories(sipreg_tls_test_support PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sipreg_tls_test_support PUBLIC sipreg_net OpenSSL::SSL OpenSSL::Crypto PRIVATE sipreg_warnings)

sipreg_add_unit_test(net_tls_identity_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/tls_identity_test.cc
  LIBS sipreg_tls_test_support sipreg_net sipreg_warnings TIMEOUT 60)
sipreg_add_unit_test(net_tls_context_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/tls_context_test.cc
  LIBS sipreg_tls_test_support sipreg_net sipreg_warnings TIMEOUT 60)
sipreg_add_unit_test(net_tls_session_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/tls_session_test.cc
  LIBS sipreg_tls_test_support sipreg_net sipreg_warnings TIMEOUT 120)
