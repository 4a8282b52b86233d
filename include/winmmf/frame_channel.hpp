// winmmf/frame_channel.hpp - a frame channel: one writer publishes fixed-size frames, any number
// of readers in other processes take the newest complete one. The writer never waits.
//
//   frame_writer.hpp   frame_writer, writable_frame
//   frame_reader.hpp   frame_reader, frame_view
//   frame_types.hpp    pixel_format, frame_meta, frame_info, writer_status, frame_size
//   frame_options.hpp  writer_options, reader_options
//   frame_clock.hpp    frame_clock (publish_time)
//
// How to use it: docs/how-to/share-a-frame.md; how it works: docs/explanation/frames.md; who
// may do what to a channel: docs/explanation/trust-model.md.
#pragma once

#include <winmmf/frame_reader.hpp>
#include <winmmf/frame_writer.hpp>
