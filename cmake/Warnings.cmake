# Every first-party target links sipreg_warnings; warnings are errors so the tree stays clean.
add_library(sipreg_warnings INTERFACE)
target_compile_options(sipreg_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor)
