# Every first-party target links sipreg_warnings; warnings are errors so the tree stays clean.
add_library(sipreg_warnings INTERFACE)
target_compile_options(sipreg_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor)

# g++ 12 at -O3 reports impossible memcpy overlaps inside libstdc++'s std::string operator+
# (GCC bug 105651, fixed in 13): a false -Wrestrict in every file that concatenates strings.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(sipreg_warnings INTERFACE -Wno-restrict)
endif()
