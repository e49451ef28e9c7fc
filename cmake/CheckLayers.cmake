# The layers of src/ and the includes each may use (docs/ARCHITECTURE.md).
#
# Included from src/CMakeLists.txt: prusaconnect_check_layer() records a layer
# (its name, the layers it uses, whether it may include libcurl, its files)
# in ${CMAKE_CURRENT_BINARY_DIR}/layers.txt and makes building the layer's
# object library run this file in script mode for it first, so a forbidden
# include fails the build as soon as the file is saved.
#
# Script mode: cmake -DSOURCE_DIR=src -DLAYERS_FILE=layers.txt [-DLAYER=name]
#   [-DSTAMP=file] -P CheckLayers.cmake checks every layer (or one) and
#   fails naming each forbidden include. The rules:
#     * #include "<dir>/..." of another layer's folder only if the layer
#       uses that layer (a layer's folder: util, protocol, transport, files,
#       transfer, camera, client);
#     * <curl/...> only in a layer that links libcurl;
#     * rapidjson only in util (everyone else goes through prusaconnect::Json);
#     * prusaconnect/printer.h (and the umbrella prusaconnect.h) only in the
#       facade: the layers below it take their options and collaborators as
#       arguments.
#   Public headers (prusaconnect/...) and the standard library are always
#   allowed.
cmake_minimum_required(VERSION 3.16)

set(PRUSACONNECT_LAYER_DIRS util protocol transport files transfer camera client facade)

if(CMAKE_SCRIPT_MODE_FILE)
  file(STRINGS "${LAYERS_FILE}" lines)
  set(failures "")
  set(checked 0)
  foreach(line IN LISTS lines)
    string(REPLACE "|" ";" fields "${line}")
    list(GET fields 0 name)
    list(GET fields 1 uses)
    list(GET fields 2 curl)
    list(GET fields 3 files)
    string(REPLACE "," ";" uses "${uses}")
    string(REPLACE "," ";" files "${files}")
    if(DEFINED LAYER AND NOT LAYER STREQUAL name)
      continue()
    endif()
    foreach(file IN LISTS files)
      math(EXPR checked "${checked} + 1")
      file(STRINGS "${SOURCE_DIR}/${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
      get_filename_component(own_dir "${file}" DIRECTORY)
      foreach(include IN LISTS includes)
        string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[\"<]([^\">]*)[\">].*" "\\1" path "${include}")
        string(REGEX MATCH "^[^/]+" top "${path}")
        set(bad "")
        if(path MATCHES "^curl/" AND NOT curl)
          set(bad "libcurl is included only by the transport layer")
        elseif(path MATCHES "^rapidjson/" AND NOT name STREQUAL "util")
          set(bad "rapidjson is util's (use prusaconnect::Json)")
        elseif(path MATCHES "^prusaconnect/(printer|prusaconnect)\\.h$" AND NOT name STREQUAL "facade")
          set(bad "the Printer facade's header is the facade's (take what you need as arguments)")
        elseif(path MATCHES "/" AND top IN_LIST PRUSACONNECT_LAYER_DIRS
               AND NOT top STREQUAL own_dir AND NOT top IN_LIST uses)
          set(bad "layer '${name}' does not use layer '${top}'")
        endif()
        if(bad)
          list(APPEND failures "src/${file}: #include ${path}: ${bad}")
        endif()
      endforeach()
    endforeach()
  endforeach()
  if(failures)
    list(JOIN failures "\n  " text)
    message(FATAL_ERROR "Forbidden includes (the layers and their arrows: docs/ARCHITECTURE.md):\n  ${text}")
  endif()
  if(checked EQUAL 0)
    message(FATAL_ERROR "CheckLayers: no file checked (layer '${LAYER}' unknown?)")
  endif()
  if(DEFINED STAMP)
    file(TOUCH "${STAMP}")
  endif()
  return()
endif()

# prusaconnect_check_layer(<target> <name> <uses> <sources>)
function(prusaconnect_check_layer target name uses sources)
  set(files ${sources})
  foreach(source IN LISTS sources)
    get_filename_component(dir "${source}" DIRECTORY)
    if(dir)
      file(GLOB headers RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*.h)
      list(APPEND files ${headers})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES files)
  get_target_property(libs ${target} LINK_LIBRARIES)
  set(curl 0)
  if("${libs}" MATCHES "CURL::libcurl")
    set(curl 1)
  endif()
  list(JOIN uses "," uses_text)
  list(JOIN files "," files_text)
  set(layers_file ${CMAKE_CURRENT_BINARY_DIR}/layers.txt)
  get_property(started GLOBAL PROPERTY PRUSACONNECT_LAYERS_FILE_STARTED)
  if(NOT started)
    file(WRITE ${layers_file} "")
    set_property(GLOBAL PROPERTY PRUSACONNECT_LAYERS_FILE_STARTED TRUE)
  endif()
  file(APPEND ${layers_file} "${name}|${uses_text}|${curl}|${files_text}\n")
  set(stamp ${CMAKE_CURRENT_BINARY_DIR}/layer_checks/${name}.stamp)
  list(TRANSFORM files PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/ OUTPUT_VARIABLE paths)
  add_custom_command(OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR} -DLAYERS_FILE=${layers_file}
            -DLAYER=${name} -DSTAMP=${stamp} -P ${PROJECT_SOURCE_DIR}/cmake/CheckLayers.cmake
    DEPENDS ${paths} ${PROJECT_SOURCE_DIR}/cmake/CheckLayers.cmake ${layers_file}
    COMMENT "Checking the includes of layer ${name}"
    VERBATIM)
  add_custom_target(${target}_includes DEPENDS ${stamp})
  add_dependencies(${target} ${target}_includes)
endfunction()
