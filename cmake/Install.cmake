# What `cmake --install` puts where (GNUInstallDirs): the daemon in sbin, the systemd unit
# and sysusers file under the prefix's lib/, an example configuration beside where the
# real one goes, man pages (built with scdoc when it is found) and the operator docs.
include(GNUInstallDirs)

set(SIPREGD_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "systemd system unit folder (relative to the install prefix, or absolute)")
set(SIPREGD_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING
    "sysusers.d folder (relative to the install prefix, or absolute)")

install(TARGETS sipregd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})

# The unit names the daemon by absolute path; the installed copy follows the prefix
# (/usr -> /usr/sbin/sipregd as shipped, /usr/local -> /usr/local/sbin/sipregd).
set(_sipregd_unit_src ${PROJECT_SOURCE_DIR}/systemd/sipregd.service)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_sipregd_unit_src})
file(READ ${_sipregd_unit_src} _sipregd_unit)
string(REPLACE "/usr/sbin/sipregd" "${CMAKE_INSTALL_FULL_SBINDIR}/sipregd" _sipregd_unit "${_sipregd_unit}")
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/systemd/sipregd.service CONTENT "${_sipregd_unit}" @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/systemd/sipregd.service DESTINATION ${SIPREGD_SYSTEMD_UNIT_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/systemd/sipregd.sysusers DESTINATION ${SIPREGD_SYSUSERS_DIR}
        RENAME sipregd.conf)

# The unit reads /etc/sipregd/sipregd.yaml; the example goes beside it (FULL: /etc for the
# /usr prefix, /usr/local/etc for /usr/local) and never over a real configuration.
install(FILES ${PROJECT_SOURCE_DIR}/config/sipregd.example.yaml
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/sipregd RENAME sipregd.yaml.example)

install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/configuration.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
if(EXISTS ${PROJECT_SOURCE_DIR}/docs/control.md)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/control.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()

# Man pages: scdoc sources in man/NAME.SECTION.scd, gzipped as Debian ships them.
find_program(SCDOC_EXECUTABLE scdoc)
find_program(GZIP_EXECUTABLE gzip)
set(SIPREGD_MAN_PAGES "")
if(SCDOC_EXECUTABLE AND GZIP_EXECUTABLE)
  file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/man)
  foreach(_page sipregd.8 sipregctl.1 sipregd.yaml.5)
    string(REGEX REPLACE "^.*\\.([0-9])$" "\\1" _section ${_page})
    set(_src ${PROJECT_SOURCE_DIR}/man/${_page}.scd)
    set(_out ${PROJECT_BINARY_DIR}/man/${_page})
    # -n: same bytes for the same input, so rebuilt pages do not differ by a timestamp.
    add_custom_command(OUTPUT ${_out} ${_out}.gz
      COMMAND ${SCDOC_EXECUTABLE} < ${_src} > ${_out}
      COMMAND ${GZIP_EXECUTABLE} -9 -n -c ${_out} > ${_out}.gz
      DEPENDS ${_src}
      COMMENT "scdoc ${_page}"
      VERBATIM)
    list(APPEND SIPREGD_MAN_PAGES ${_out})
    install(FILES ${_out}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_section})
  endforeach()
  add_custom_target(sipregd_man ALL DEPENDS ${SIPREGD_MAN_PAGES})
else()
  message(STATUS "scdoc not found: man pages are not built or installed (apt-get install scdoc)")
endif()
