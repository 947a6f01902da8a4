# CommandRunner: real children (small /bin/sh scripts written by the test into a temp dir).
sipreg_add_unit_test(net_command_runner_test SOURCES command_runner_test.cc LIBS sipreg_net sipreg_warnings TIMEOUT 60)
