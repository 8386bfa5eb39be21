# SPDX-License-Identifier: MIT
# Corrupts one type byte of a capture and checks that `ninep decode` fails at that frame's offset.
# cmake -DNINEP=path/to/ninep -DCAPTURE=capture.9p -P decode-corrupt.cmake
file(READ ${CAPTURE} hex HEX)
# The 4th frame of the diod capture (an Rlerror) starts at byte 73; its type byte is at 77.
# 0x6a is Terror, which is never a valid message.
string(SUBSTRING "${hex}" 0 154 head)
string(SUBSTRING "${hex}" 156 -1 tail)
file(WRITE corrupt-capture.hex "${head}6a${tail}")
execute_process(COMMAND ${NINEP} decode --hex corrupt-capture.hex
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "ninep decode accepted a corrupt capture")
endif()
if(NOT err MATCHES "offset 73: ")
  message(FATAL_ERROR "expected 'offset 73: ' on stderr, got: ${err}")
endif()
if(NOT out MATCHES "Rversion")
  message(FATAL_ERROR "frames before the corrupt one were not printed: ${out}")
endif()
