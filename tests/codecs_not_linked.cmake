# The shared library must not depend on libjpeg or libpng at load time: they
# are dlopen()ed on the first image conversion (src/camera/image.cc), so a
# process that never converts an image does not map them.
execute_process(COMMAND ${OBJDUMP} -p ${LIBRARY} OUTPUT_VARIABLE dump RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "objdump -p ${LIBRARY} failed")
endif()
string(REGEX MATCHALL "NEEDED +[^\n]+" needed "${dump}")
if(NOT needed)
  message(FATAL_ERROR "no NEEDED entries read from ${LIBRARY}")
endif()
foreach(entry IN LISTS needed)
  if(entry MATCHES "libjpeg|libpng")
    message(FATAL_ERROR "${LIBRARY} links ${entry}; the codecs must be loaded on first use")
  endif()
endforeach()
message(STATUS "${LIBRARY}: ${needed}")
